import { BROKER_MESSAGE_MAX_BYTES, byteLimitsProblem, DEFAULT_BYTE_LIMITS } from '@fabric/contracts';
import { ConfigError } from '@fabric/runtime';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PENDING_BYTES, parseLimitFlags } from '../src/limit-flags.js';

describe('byte limit flags', () => {
  it('defaults sit below the broker limit with room, and fit the chart memory limit', () => {
    expect(byteLimitsProblem(DEFAULT_BYTE_LIMITS)).toBeUndefined();
    expect(DEFAULT_BYTE_LIMITS.batchBytes).toBeLessThan(BROKER_MESSAGE_MAX_BYTES * 0.9);
    expect(parseLimitFlags({})).toEqual({ limits: DEFAULT_BYTE_LIMITS, maxPendingBytes: DEFAULT_MAX_PENDING_BYTES });
    expect(DEFAULT_MAX_PENDING_BYTES).toBeLessThanOrEqual(256 * 1024 * 1024 * 0.25);
  });

  it('refuses limits that let one item exceed a batch or the broker, naming the flag', () => {
    const fails = (values: Record<string, string>, flag: string, text: RegExp) => {
      try {
        parseLimitFlags(values);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).path).toBe(flag);
        expect((err as Error).message).toMatch(text);
        return;
      }
      throw new Error(`expected ${JSON.stringify(values)} to be refused`);
    };
    fails({ 'max-batch-bytes': '2000000' }, '--max-batch-bytes', /message\.max\.bytes/);
    fails({ 'max-event-bytes': '900000' }, '--max-event-bytes', /plus --max-key-bytes .* must fit --max-batch-bytes/);
    fails({ 'max-key-bytes': '300000' }, '--max-key-bytes', /under half of --max-event-bytes/);
    fails({ 'max-dead-letter-bytes': '900000' }, '--max-dead-letter-bytes', /must fit --max-batch-bytes/);
    fails({ 'max-pending-bytes': '1000' }, '--max-pending-bytes', /must be an integer from 921600/);
    fails({ 'max-event-bytes': 'lots' }, '--max-event-bytes', /must be an integer/);
  });
});
