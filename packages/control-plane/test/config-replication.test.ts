import { ConfigError } from '@fabric/runtime';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../src/auth.js';
import { validateControlPlaneConfig } from '../src/config.js';

const base = (replication?: unknown) => ({
  ...(replication === undefined ? {} : { replication }),
  listen: { port: 21000 },
  metrics: { port: 21001 },
  tokens: [{ name: 'ops', scopes: ['read'], sha256: hashToken('secret') }],
  regions: [
    {
      name: 'us-east',
      home: true,
      postgresUrl: 'postgres://p@h:1/fabric',
      kafkaBrokers: ['h:2'],
      readerStatusUrl: 'http://h:4/healthz',
      invalidatorStatusUrl: 'http://h:5/healthz',
    },
    {
      name: 'eu-west',
      postgresUrl: 'postgres://p@h:11/fabric',
      kafkaBrokers: ['h:12'],
      readerStatusUrl: 'http://h:14/healthz',
      invalidatorStatusUrl: 'http://h:15/healthz',
    },
  ],
});

describe('control plane replication mode', () => {
  it('knows a physical standby by its slot and application name on the primary', () => {
    const config = validateControlPlaneConfig(base('physical'), '/');
    expect(config.replication).toBe('physical');
    expect(config.regions[1]).toMatchObject({
      subscriptionSlot: undefined,
      standbySlot: 'fabric_standby_eu_west',
      standbyApplicationName: 'eu_west',
    });
    expect(config.regions[0]).toMatchObject({ standbySlot: undefined, standbyApplicationName: undefined });
  });

  it('reads a file without the field as logical replicas, as files were written before standbys', () => {
    const config = validateControlPlaneConfig(base(), '/');
    expect(config.replication).toBe('logical');
    expect(config.regions[1]).toMatchObject({ subscriptionSlot: 'fabric_sub_eu_west', standbySlot: undefined });
  });

  it('names the field of a bad mode', () => {
    expect(() => validateControlPlaneConfig(base('streaming'), '/')).toThrow(ConfigError);
    expect(() => validateControlPlaneConfig(base('streaming'), '/')).toThrow(
      /^replication: must be "physical" or "logical"/,
    );
  });
});
