import { ConfigError } from '@fabric/runtime';
import { describe, expect, it } from 'vitest';
import { parseReaderConfig } from '../src/config.js';

const base = [
  '--region',
  'eu-west',
  '--postgres',
  'postgres://h:1/db',
  '--kafka',
  'k1:9092,k2:9092',
  '--rules',
  'r.yaml',
  '--redis',
  'redis://r:6379',
];

describe('parseReaderConfig', () => {
  it('fills defaults from the region', () => {
    const c = parseReaderConfig(base, {})!;
    expect(c.topic).toBe('fabric.inval.eu-west');
    expect(c.deadLetterTopic).toBe('fabric.inval.eu-west.dlq');
    expect(c.slot).toBe('fabric_cdc');
    expect(c.kafkaBrokers).toEqual(['k1:9092', 'k2:9092']);
    expect(c.heartbeatMs).toBe(1000);
    expect(c.home).toBe(false);
  });

  it('reads the environment when flags are absent', () => {
    const c = parseReaderConfig([], {
      FABRIC_REGION: 'us-east',
      FABRIC_POSTGRES_URL: 'postgres://x/y',
      FABRIC_KAFKA_BROKERS: 'k:1',
      FABRIC_RULES: 'r',
      FABRIC_HOME: '1',
      FABRIC_REDIS_URL: 'redis://r:6379',
    })!;
    expect(c.region).toBe('us-east');
    expect(c.home).toBe(true);
  });

  it('takes the /healthz grace period for Kafka from --health-grace-ms, 30 s by default', () => {
    expect(parseReaderConfig(base, {})!.healthGraceMs).toBe(30_000);
    expect(parseReaderConfig([...base, '--health-grace-ms', '5000'], {})!.healthGraceMs).toBe(5_000);
  });

  it("keeps the continuity record in the region's Redis, and refuses to run without one unless continuity is off", () => {
    const c = parseReaderConfig(base, {})!;
    expect(c.continuity).toBe(true);
    expect(c.redis).toMatchObject({ mode: 'standalone', nodes: [{ host: 'r', port: 6379 }] });
    const noRedis = base.slice(0, -2);
    expect(() => parseReaderConfig(noRedis, {})).toThrow(
      /--redis: is required: the reader keeps the region's continuity/,
    );
    const off = parseReaderConfig([...noRedis, '--continuity', 'off'], {})!;
    expect(off).toMatchObject({ continuity: false, redis: undefined });
    expect(() => parseReaderConfig([...base, '--continuity', 'maybe'], {})).toThrow('--continuity: must be on or off');
  });

  it('returns undefined for --help', () => {
    expect(parseReaderConfig(['--help'], {})).toBeUndefined();
  });

  it.each([
    [['--region', 'eu-west'], '--postgres: is required'],
    [[...base.slice(0, 4), '--kafka', 'k1', '--rules', 'r'], '--kafka[0]: "k1" must be host:port'],
    [[...base, '--redis', 'http://x'], '--redis: must start with redis://'],
    [[...base, '--slot', 'Bad-Slot'], '--slot: "Bad-Slot" must be a lowercase identifier'],
    [[...base, '--heartbeat-ms=-1'], '--heartbeat-ms: must be an integer from 0'],
    [[...base, '--health-grace-ms', '500'], '--health-grace-ms: must be an integer from 1000'],
    [['--region', 'EU', ...base.slice(2)], '--region: "EU" is not a region name'],
    [[...base.slice(0, 2), '--postgres', 'mysql://x', ...base.slice(4)], '--postgres: must be a postgres:// URL'],
  ])('rejects %j naming the field', (argv, message) => {
    expect(() => parseReaderConfig(argv as string[], {})).toThrow(ConfigError);
    expect(() => parseReaderConfig(argv as string[], {})).toThrow(message);
  });
});
