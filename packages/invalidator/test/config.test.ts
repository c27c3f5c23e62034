import { describe, expect, it } from 'vitest';
import { parseInvalidatorConfig } from '../src/config.js';

const base = ['--region', 'eu-west', '--kafka', 'k1:9092,k2:9092'];
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) =>
  parseInvalidatorConfig(argv, env, (f) => {
    if (!(f in files)) throw new Error(`ENOENT: no such file ${f}`);
    return files[f]!;
  });

describe('invalidator config', () => {
  it('derives topics, group and defaults from the region', () => {
    const c = parse([...base, '--redis', 'redis://cache:6380/2'])!;
    expect(c).toMatchObject({
      region: 'eu-west',
      kafkaBrokers: ['k1:9092', 'k2:9092'],
      topic: 'fabric.inval.eu-west',
      deadLetterTopic: 'fabric.inval.eu-west.dlq',
      groupId: 'fabric-invalidator-eu-west',
      retry: { maxAttempts: 8, baseMs: 200, capMs: 5000 },
      commitIntervalMs: 250,
      fetchLingerMs: 0,
      redis: { mode: 'standalone', nodes: [{ host: 'cache', port: 6380 }], db: 2, commandTimeoutMs: 2000 },
    });
    expect(c.redis.tls).toBeUndefined();
  });

  it('takes ACL credentials and TLS from the URL, a password file and a CA file', () => {
    const c = parse(
      [...base, '--redis', 'rediss://app:s%40cret@cache:6379', '--redis-tls-ca', '/ca.pem'],
      {},
      { '/ca.pem': 'PEM' },
    )!;
    expect(c.redis).toMatchObject({ username: 'app', password: 's@cret', tls: { ca: 'PEM' } });
    const d = parse(
      [...base, '--redis', 'redis://cache', '--redis-user', 'inv', '--redis-password-file', '/pw', '--redis-tls'],
      {},
      { '/pw': 'hunter2\n' },
    )!;
    expect(d.redis).toMatchObject({ username: 'inv', password: 'hunter2', tls: {} });
    expect(parse([...base, '--redis', 'redis://cache'], { FABRIC_REDIS_PASSWORD: 'env-pw' })!.redis.password).toBe(
      'env-pw',
    );
  });

  it('takes the /healthz grace period from --health-grace-ms, 10 s by default', () => {
    expect(parse([...base, '--redis', 'redis://c'])!.healthGraceMs).toBe(10_000);
    expect(parse([...base, '--redis', 'redis://c', '--health-grace-ms', '0'])!.healthGraceMs).toBe(0);
    expect(() => parse([...base, '--redis', 'redis://c', '--health-grace-ms', '2.5'])).toThrow(/--health-grace-ms/);
    expect(() => parse([...base, '--redis', 'redis://c', '--health-grace-ms', '-1'])).toThrow(/--health-grace-ms/);
  });

  it('tombstones revoked fill leases for --fill-tombstone-ms, 250 ms by default, 0 to delete them', () => {
    expect(parse([...base, '--redis', 'redis://c'])!.fillTombstoneMs).toBe(250);
    expect(parse([...base, '--redis', 'redis://c', '--fill-tombstone-ms', '0'])!.fillTombstoneMs).toBe(0);
    expect(() => parse([...base, '--redis', 'redis://c', '--fill-tombstone-ms', '-5'])).toThrow(/--fill-tombstone-ms/);
  });

  it('commits after every chunk with --commit-interval-ms 0', () => {
    expect(parse([...base, '--redis', 'redis://c', '--commit-interval-ms', '0'])!.commitIntervalMs).toBe(0);
    expect(parse([...base, '--redis', 'redis://c', '--fetch-linger-ms', '20'])!.fetchLingerMs).toBe(20);
    expect(() => parse([...base, '--redis', 'redis://c', '--commit-interval-ms', '-1'])).toThrow(
      /--commit-interval-ms/,
    );
  });

  it('accepts cluster seed nodes', () => {
    expect(parse([...base, '--redis-cluster', 'a:7000,b:7001'])!.redis).toMatchObject({
      mode: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
    });
  });

  it('names the bad field', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--kafka', 'k:1', '--redis', 'redis://c'], /^--region: is required/],
      [['--region', 'EU', '--kafka', 'k:1', '--redis', 'redis://c'], /^--region: "EU"/],
      [['--region', 'eu', '--kafka', 'k:1,nope', '--redis', 'redis://c'], /^--kafka\[1\]: "nope" must be host:port/],
      [[...base], /^--redis: is required/],
      [[...base, '--redis', 'http://c'], /^--redis: must start with redis:\/\//],
      [[...base, '--redis', 'redis://c', '--redis-cluster', 'a:1'], /^--redis-cluster: give either/],
      [[...base, '--redis-cluster', 'a:1,b'], /^--redis-cluster\[1\]/],
      [[...base, '--redis', 'redis://c', '--max-attempts', '0'], /^--max-attempts: must be an integer from 1/],
      [
        [...base, '--redis', 'redis://c', '--retry-base-ms', '500', '--retry-cap-ms', '100'],
        /^--retry-cap-ms: must be at least/,
      ],
      [
        [...base, '--redis', 'redis://c', '--redis-password-file', '/missing'],
        /^--redis-password-file: cannot read \/missing/,
      ],
    ];
    for (const [argv, message] of cases) expect(() => parse(argv), argv.join(' ')).toThrow(message);
  });

  it('returns undefined for --help', () => {
    expect(parse(['--help'])).toBeUndefined();
  });
});
