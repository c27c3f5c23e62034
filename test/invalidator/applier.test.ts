import { failureKind, RedisApplier } from '@fabric/invalidator';
import { Operation } from '@fabric/proto';
import { FabricCache, leaseKey, tagKey } from '@fabric/sdk';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { cleanup, event, uniquePrefix } from '../sdk/helpers.js';
import { eventually } from '../support.js';

const prefix = uniquePrefix('inv');
const options = { ttlSeconds: 60, ttlJitter: 0, leaseMs: 10_000, waitMs: 1_000 };

describe('RedisApplier against real Redis', () => {
  const { host, port } = inject('endpoints').regions[0]!.redis;
  let redis: Redis;
  let applier: RedisApplier;
  let cache: FabricCache;

  beforeAll(async () => {
    redis = new Redis({ host, port, lazyConnect: true });
    await redis.connect();
    applier = new RedisApplier(redis, pino({ level: 'silent' }), { pageSize: 7 });
    cache = new FabricCache(redis, options);
  });
  afterAll(async () => {
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  const fill = (key: string, tags?: string[]) => cache.get(key, async () => `value of ${key}`, { tags });

  it('unlinks keys and their leases and bumps versions', async () => {
    const [a, b] = [`${prefix}k:a`, `${prefix}k:b`];
    await fill(a);
    await redis.set(leaseKey(b), 'someone-elses-token');
    const before = Date.now();
    const result = await applier.apply([event({ keys: [a, b], versions: [`ver:${prefix}k`] })]);
    expect(result).toMatchObject({ keysUnlinked: 1, leasesRevoked: 1, versionsBumped: 1, failed: [] });
    expect(await redis.exists(a, leaseKey(b))).toBe(0);
    // Bumped to the server's clock in µs (a value that never repeats), with a lifetime.
    expect(Number(await redis.get(`ver:${prefix}k`))).toBeGreaterThanOrEqual(before * 1000);
    expect(await redis.pttl(`ver:${prefix}k`)).toBeGreaterThan(0);
  });

  it('is harmless to apply twice (versions just move again)', async () => {
    const key = `${prefix}dup`;
    await fill(key, [`${prefix}dup-tag`]);
    const ev = event({ keys: [key], tags: [`${prefix}dup-tag`], versions: [`ver:${prefix}dup`] });
    const first = await applier.apply([ev, ev]);
    const second = await applier.apply([ev]);
    expect(first.failed).toEqual([]);
    expect(first.keysUnlinked).toBe(1);
    expect(second).toMatchObject({ keysUnlinked: 0, leasesRevoked: 0, tagsExpanded: 1, failed: [] });
    expect(await redis.exists(key, tagKey(`${prefix}dup-tag`))).toBe(0);
    expect(Number(await redis.get(`ver:${prefix}dup`))).toBeGreaterThan(0);
  });

  it('expands a tag to the keys fills registered, then drops the tag set', async () => {
    const tag = `${prefix}team:7`;
    const members = [1, 2, 3].map((i) => `${prefix}user:${i}`);
    for (const m of members) await fill(m, [tag]);
    const other = `${prefix}user:9`;
    await fill(other, [`${prefix}team:8`]);
    expect((await redis.smembers(tagKey(tag))).sort()).toEqual(members);

    const result = await applier.apply([event({ tags: [tag] })]);
    expect(result).toMatchObject({ keysUnlinked: 3, tagsExpanded: 1, failed: [] });
    expect(await redis.exists(...members, tagKey(tag))).toBe(0);
    expect(await redis.exists(other)).toBe(1);

    // A fill after the expansion registers into a fresh set, ready for the next invalidation.
    await fill(members[0]!, [tag]);
    expect(await redis.smembers(tagKey(tag))).toEqual([members[0]]);
  });

  it('expands patterns with SCAN and unlinks matches and their leases', async () => {
    const matching = Array.from({ length: 40 }, (_, i) => `${prefix}p:${i}`);
    for (const k of matching) await fill(k);
    await redis.set(leaseKey(`${prefix}p:99`), 'filler-token');
    await redis.set(`${prefix}p:99`, 'x'); // so SCAN finds it
    const keep = `${prefix}q:1`;
    await fill(keep);

    const result = await applier.apply([event({ patterns: [`${prefix}p:*`], operation: Operation.MANUAL })]);
    expect(result).toMatchObject({ keysUnlinked: 41, leasesRevoked: 1, patternsScanned: 1, failed: [] });
    expect(await redis.exists(...matching, `${prefix}p:99`, leaseKey(`${prefix}p:99`))).toBe(0);
    expect(await redis.exists(keep)).toBe(1);
  });

  it('treats heartbeats as no-ops', async () => {
    const key = `${prefix}hb`;
    await fill(key);
    const result = await applier.apply([event({ keys: [key], operation: Operation.HEARTBEAT })]);
    expect(result).toMatchObject({ keysUnlinked: 0, leasesRevoked: 0, failed: [] });
    expect(await redis.exists(key)).toBe(1);
  });

  it('sends a standalone batch in one pipeline: the tag page first, one UNLINK each for leases, values and stale copies, one version script', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `${prefix}batch:${i}`);
    await Promise.all(keys.map((k) => fill(k)));
    await fill(`${prefix}batch:member`, [`${prefix}batch-tag`]);
    const seen: string[][] = [];
    const monitor = await redis.duplicate().monitor();
    const applierAddress = `${redis.stream.localAddress}:${redis.stream.localPort}`;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === applierAddress) seen.push(args);
    });
    // The client's own view of round trips: one pipeline, nothing sent on the side.
    const pipelines = vi.spyOn(redis, 'pipeline');
    const scripts = vi.spyOn(redis, 'evalsha');
    try {
      const result = await applier.apply([
        ...keys.map((k) => event({ keys: [k], versions: [`ver:${k}`] })),
        event({ tags: [`${prefix}batch-tag`] }),
      ]);
      expect(result).toMatchObject({
        keysUnlinked: 41,
        leasesRevoked: 0,
        versionsBumped: 40,
        tagsExpanded: 1,
        failed: [],
      });
      expect([pipelines.mock.calls.length, scripts.mock.calls.length]).toEqual([1, 0]);
      // MONITOR reports one connection's commands in the order they ran: once a marker sent
      // after the batch shows up, every command of the batch has been seen.
      const marker = `${prefix}end-of-batch`;
      await redis.echo(marker);
      await eventually('the monitor saw the whole batch', async () =>
        seen.some((a) => a[0]!.toLowerCase() === 'echo' && a[1] === marker) ? true : undefined,
      );
    } finally {
      pipelines.mockRestore();
      scripts.mockRestore();
      monitor.disconnect();
    }
    // MONITOR lists the commands a script runs too: the batch's own are the top-level ones.
    const names = seen.map((a) => a[0]!.toLowerCase()).filter((n) => n === 'evalsha' || n === 'unlink');
    // The tag's page, leases (a fill cannot land between), values, stale copies, then the versions' one script.
    expect(names).toEqual(['evalsha', 'unlink', 'unlink', 'unlink', 'evalsha']);
    for (const k of [...keys, `${prefix}batch:member`]) expect(await redis.exists(k)).toBe(0);
  });

  it('loads the tag script again when the server lost it (restart, SCRIPT FLUSH)', async () => {
    const member = `${prefix}flushed:member`;
    await fill(member, [`${prefix}flushed-tag`]);
    await redis.script('FLUSH');
    const result = await applier.apply([event({ tags: [`${prefix}flushed-tag`] })]);
    expect(result).toMatchObject({ keysUnlinked: 1, tagsExpanded: 1, failed: [] });
    expect(await redis.exists(member)).toBe(0);
    expect(await redis.exists(tagKey(`${prefix}flushed-tag`))).toBe(0);
  });

  it('reports failures per event and applies the rest of the batch', async () => {
    const key = `${prefix}ok`;
    await fill(key);
    await redis.set(tagKey(`${prefix}not-a-set`), 'oops');
    await redis.set(`ver:${prefix}not-a-number`, 'abc');
    await redis.hset(`ver:${prefix}a-hash`, 'f', '1');
    const events = [
      event({ id: 'bad-tag', tags: [`${prefix}not-a-set`] }),
      event({ id: 'good', keys: [key], versions: [`ver:${prefix}fine`] }),
      event({ id: 'bad-ver', versions: [`ver:${prefix}not-a-number`] }),
      event({ id: 'hash-ver', versions: [`ver:${prefix}a-hash`] }),
    ];
    const result = await applier.apply(events);
    expect(result.failed.map((f) => [f.index, f.eventId, f.error.stage])).toEqual([
      [0, 'bad-tag', 'tag'],
      [2, 'bad-ver', 'incr'],
      [3, 'hash-ver', 'incr'],
    ]);
    expect(result.failed[0]!.error.message).toMatch(/WRONGTYPE/);
    // Each version key's fault is its own, and an error of the event's data: a dead letter, not an outage.
    expect(result.failed[1]!.error.message).toMatch(/not an integer/);
    expect(result.failed[2]!.error.message).toMatch(/WRONGTYPE/);
    expect(result.failed.map((f) => failureKind(f.error))).toEqual(['event', 'event', 'event']);
    expect(result.keysUnlinked).toBe(1);
    expect(result.versionsBumped).toBe(1);
    expect(await redis.exists(key)).toBe(0);
    expect(Number(await redis.get(`ver:${prefix}fine`))).toBeGreaterThan(0);
  });
});
