import { ConfigError } from '@fabric/runtime';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../src/auth.js';
import { parseControlPlaneArgs, validateControlPlaneConfig } from '../src/config.js';

const sha = hashToken('secret');

function config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: { port: 31000 },
    metrics: { host: '0.0.0.0', port: 31001 },
    tokens: [{ name: 'ops', scopes: ['read', 'admin'], sha256: sha }],
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
    ...overrides,
  };
}

describe('validateControlPlaneConfig', () => {
  it('fills per-region defaults from the naming conventions', () => {
    const c = validateControlPlaneConfig(config(), '/etc/fabric');
    const [home, replica] = c.regions;
    expect(home).toMatchObject({
      topic: 'fabric.inval.us-east',
      deadLetterTopic: 'fabric.inval.us-east.dlq',
      consumerGroup: 'fabric-invalidator-us-east',
      cdcSlot: 'fabric_cdc',
      subscriptionSlot: undefined,
    });
    expect(replica).toMatchObject({ home: false, subscriptionSlot: 'fabric_sub_eu_west', kafkaBrokers: ['h:12'] });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 31000 });
    expect(c.metrics).toEqual({ host: '0.0.0.0', port: 31001 });
    expect(c.probeTimeoutMs).toBe(2000);
    expect(c.tls).toBeUndefined();
  });

  it('resolves TLS files against the config file directory', () => {
    const c = validateControlPlaneConfig(
      config({ tls: { cert: 'server.pem', key: '/abs/server.key', clientCa: 'ca.pem' } }),
      '/etc/fabric',
    );
    expect(c.tls).toEqual({ cert: '/etc/fabric/server.pem', key: '/abs/server.key', clientCa: '/etc/fabric/ca.pem' });
  });

  const region = (patch: Record<string, unknown>) =>
    config({ regions: [{ ...(config().regions as object[])[0], ...patch }] });

  it.each([
    [config({ regions: [] }), 'regions: must list at least one region'],
    [config({ regions: 'us-east' }), 'regions: must be an array'],
    [region({ name: 'US_East' }), 'regions[0].name: "US_East" is not a region name'],
    [region({ postgresUrl: 'mysql://x' }), 'regions[0].postgresUrl: must be a postgres:// URL'],
    [region({ kafkaBrokers: ['ok:1', 'nohost'] }), 'regions[0].kafkaBrokers[1]: "nohost" must be host:port'],
    [region({ readerStatusUrl: 'h:4/healthz' }), 'regions[0].readerStatusUrl: "h:4/healthz" must be an http:// URL'],
    [region({ cdcSlot: 'Bad-Slot' }), 'regions[0].cdcSlot: "Bad-Slot" must be a lowercase identifier'],
    [region({ home: 'yes' }), 'regions[0].home: must be true or false'],
    [region({ home: false }), 'regions: exactly one region must have "home": true, found 0'],
    [
      config({ regions: [(config().regions as object[])[0], (config().regions as object[])[0]] }),
      'regions[1].name: "us-east" is listed twice',
    ],
    [config({ tokens: [] }), 'tokens: must list at least one token'],
    [
      config({ tokens: [{ name: 'x', scopes: ['write'], sha256: sha }] }),
      'tokens[0].scopes[0]: must be one of read, admin, got "write"',
    ],
    [config({ tokens: [{ name: 'x', scopes: [], sha256: sha }] }), 'tokens[0].scopes: must grant at least one scope'],
    [
      config({ tokens: [{ name: 'x', scopes: ['read'], sha256: 'secret' }] }),
      'tokens[0].sha256: must be the 64 hex digits',
    ],
    [config({ listen: { port: 70000 } }), 'listen.port: must be an integer from 0 to 65535, got 70000'],
    [config({ metrics: undefined }), 'metrics: must be an object'],
    [config({ tls: { cert: 'c.pem' } }), 'tls.key: must be a non-empty string'],
    [config({ probeTimeoutMs: 5 }), 'probeTimeoutMs: must be an integer from 100 to 60000, got 5'],
  ])('rejects a bad field naming its JSON path (%#)', (raw, message) => {
    expect(() => validateControlPlaneConfig(raw, '/')).toThrow(ConfigError);
    expect(() => validateControlPlaneConfig(raw, '/')).toThrow(message);
  });
});

describe('parseControlPlaneArgs', () => {
  it('takes --config, else the environment, and resolves it', () => {
    expect(parseControlPlaneArgs(['--config', 'cp.json'], {})?.configPath).toMatch(/\/cp\.json$/);
    expect(parseControlPlaneArgs([], { FABRIC_CONTROL_PLANE_CONFIG: '/x/cp.json' })).toEqual({
      configPath: '/x/cp.json',
    });
  });

  it('returns undefined for --help and requires a config otherwise', () => {
    expect(parseControlPlaneArgs(['--help'], {})).toBeUndefined();
    expect(() => parseControlPlaneArgs([], {})).toThrow('--config: is required');
  });
});

describe('control plane replication mode', () => {
  it('knows a physical standby by its slot and application name on the primary', () => {
    const c = validateControlPlaneConfig(config({ replication: 'physical' }), '/');
    expect(c.replication).toBe('physical');
    expect(c.regions[1]).toMatchObject({
      subscriptionSlot: undefined,
      standbySlot: 'fabric_standby_eu_west',
      standbyApplicationName: 'eu_west',
    });
    expect(c.regions[0]).toMatchObject({ standbySlot: undefined, standbyApplicationName: undefined });
  });

  it('reads a file without the field as logical replicas, as files were written before standbys', () => {
    const c = validateControlPlaneConfig(config(), '/');
    expect(c.replication).toBe('logical');
    expect(c.regions[1]).toMatchObject({ subscriptionSlot: 'fabric_sub_eu_west', standbySlot: undefined });
  });

  it('names the field of a bad mode', () => {
    expect(() => validateControlPlaneConfig(config({ replication: 'streaming' }), '/')).toThrow(ConfigError);
    expect(() => validateControlPlaneConfig(config({ replication: 'streaming' }), '/')).toThrow(
      /^replication: must be "physical" or "logical"/,
    );
  });
});
