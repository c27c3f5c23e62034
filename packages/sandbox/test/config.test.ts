import { describe, expect, it } from 'vitest';
import { regionIdent, resolveSandboxConfig } from '../src/index.js';
import { errorOf } from './config-error.js';

describe('resolveSandboxConfig', () => {
  it('defaults to three regions with the first as home', () => {
    const config = resolveSandboxConfig({}, '/repo');
    expect(config.regions).toEqual([
      { name: 'us-east', home: true },
      { name: 'eu-west', home: false },
      { name: 'ap-south', home: false },
    ]);
    expect(config.stateDir).toBe('/repo/.fabric/sandbox');
    expect(config.portBase).toBe(25400);
    expect(config.host).toBe('127.0.0.1');
  });

  it('accepts a comma list from a flag or the environment, and a chosen home', () => {
    const config = resolveSandboxConfig({ regions: 'eu-west, us-east', home: 'us-east', portBase: '30000' });
    expect(config.regions).toEqual([
      { name: 'eu-west', home: false },
      { name: 'us-east', home: true },
    ]);
    expect(config.portBase).toBe(30000);
  });

  it.each([
    [{ regions: 'us-east,EU_West' }, 'regions[1]', 'lowercase letters'],
    [{ regions: 'us-east,us-east' }, 'regions[1]', 'listed twice'],
    [{ regions: '' }, 'regions[0]', 'not a region name'],
    [{ regions: [] }, 'regions', 'at least one region'],
    [{ regions: ['a'] }, 'regions[0]', '2-24'],
    [{ regions: 'r1,r2,r3,r4,r5,r6,r7,r8,r9' }, 'regions', 'at most 8'],
    [{ home: 'mars' }, 'home', 'must be one of the regions (us-east, eu-west, ap-south)'],
    [{ portBase: 80 }, 'portBase', 'from 1024 to 65535'],
    [{ portBase: 'lots' }, 'portBase', 'got "lots"'],
    [{ portBase: 2.5 }, 'portBase', 'integer'],
    [{ stateDir: '  ' }, 'stateDir', 'non-empty'],
    [{ host: 'localhost' }, 'host', 'IPv4'],
    [{ partitions: 0 }, 'partitions', 'from 1 to 64'],
    [{ kafkaHeap: '1tb' }, 'kafkaHeap', '384m'],
  ])('rejects %j at %s', (input, path, hint) => {
    const err = errorOf(() => resolveSandboxConfig(input));
    expect(err.path).toBe(path);
    expect(err.message).toContain(`${path}: `);
    expect(err.message).toContain(hint);
  });

  it('maps region names to PostgreSQL identifiers', () => {
    expect(regionIdent('ap-south-2')).toBe('ap_south_2');
  });
});
