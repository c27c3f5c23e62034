import { afterEach, describe, expect, it, vi } from 'vitest';
import { RESYNC_HELP, resync } from '../src/commands/resync.js';
import { MAIN_HELP, UsageError } from '../src/usage.js';

describe('fabric resync', () => {
  afterEach(() => vi.restoreAllMocks());

  it('explains what a resync does and that it needs an admin token', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await resync(['--help'])).toBe(0);
    expect(out).toHaveBeenCalledWith(RESYNC_HELP);
    expect(RESYNC_HELP).toMatch(/^Usage: fabric resync --region R \[--reason TEXT\] \[--json\]/);
    expect(RESYNC_HELP).toContain('recovery action');
    expect(RESYNC_HELP).toContain('every partition');
    expect(RESYNC_HELP).toContain('Needs an admin token.');
    expect(RESYNC_HELP).toContain('--server HOST:PORT');
  });

  it('is listed in the main help', () => {
    expect(MAIN_HELP).toMatch(/^ {2}resync {4}Resync a region/m);
  });

  it('needs --region before it talks to anyone, and refuses unknown flags', async () => {
    await expect(resync([])).rejects.toThrow(UsageError);
    await expect(resync(['--region', ' '])).rejects.toThrow('--region is required');
    await expect(resync(['--region', 'eu-west', '--force'])).rejects.toThrow(/--force/);
  });
});
