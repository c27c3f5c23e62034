import { RedisApplier } from '@fabric/invalidator';
import { Operation } from '@fabric/proto';
import { leaseKey, tagKey } from '@fabric/sdk';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanup, event, uniquePrefix } from '../sdk/helpers.js';
import { eventually } from '../support.js';

const prefix = uniquePrefix('expand');
const PAGE = 500;

/** Tag and pattern expansion page by page, and version keys that go away, against the region's Redis. */
describe('expansion in pages and version lifetimes', () => {
  const { host, port } = inject('endpoints').regions[0]!.redis;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis({ host, port });
  });
  afterAll(async () => {
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  /**
   * Follows a tag's expansion through MONITOR, which also lists the commands a script runs:
   * per EVAL/EVALSHA on the tag set, its SSCANs and the members it removed (SREM).
   */
  const watchTagExpansion = async (setKey: string) => {
    const monitor = await new Redis({ host, port }).monitor();
    const calls: Array<{ sscans: number; removed: number }> = [];
    let removed = 0;
    monitor.on('monitor', (_time: string, args: string[]) => {
      const command = args[0]?.toLowerCase();
      if ((command === 'evalsha' || command === 'eval') && args[3] === setKey) calls.push({ sscans: 0, removed: 0 });
      else if (args[1] !== setKey) return;
      const call = calls.at(-1);
      if (call === undefined) return;
      if (command === 'sscan') call.sscans += 1;
      else if (command === 'srem') {
        call.removed += args.length - 2;
        removed += args.length - 2;
      }
    });
    return {
      /** Waits until MONITOR has reported every member's removal, then stops watching. */
      done: async (members: number) => {
        await eventually('every removal reported by MONITOR', async () => (removed >= members ? true : undefined));
        monitor.disconnect();
        return calls;
      },
    };
  };

  const seed = async (keys: string[], tag?: string) => {
    for (let i = 0; i < keys.length; i += 5_000) {
      const pipe = redis.pipeline();
      for (const k of keys.slice(i, i + 5_000)) {
        pipe.hset(k, 'd', 'cached');
        pipe.set(leaseKey(k), 'a-fill-in-flight');
      }
      if (tag) pipe.sadd(tagKey(tag), ...keys.slice(i, i + 5_000));
      await pipe.exec();
    }
  };

  it('expands a tag of 50,000 members a page at a time, never one script over the set', async () => {
    const tag = `${prefix}big-tag`;
    const members = Array.from({ length: 50_000 }, (_, i) => `${prefix}m:${i}`);
    await seed(members, tag);
    const applier = new RedisApplier(redis, pino({ level: 'silent' }), { pageSize: PAGE });
    const steps = await watchTagExpansion(tagKey(tag));

    const result = await applier.apply([event({ tags: [tag] })]);
    expect(result).toMatchObject({ keysUnlinked: 50_000, leasesRevoked: 50_000, tagsExpanded: 1, failed: [] });
    // Redis's own view, not the applier's tally: what each script call did to the set.
    const calls = await steps.done(members.length);
    // A call that ran nothing is the EVALSHA refused with NOSCRIPT before its EVAL.
    const pages = calls.filter((c) => c.sscans > 0 || c.removed > 0);
    const largest = Math.max(...pages.map((c) => c.removed));
    process.stderr.write(
      `[expansion] ${members.length} members, --expand-page ${PAGE}: ${pages.length} script calls, the largest removed ${largest} members\n`,
    );
    // One SSCAN per script call; its COUNT is a hint that a hashtable-encoded set overshoots
    // only by the rest of the last bucket's chain, so a page stays within a few of PAGE.
    expect(pages.every((c) => c.sscans === 1)).toBe(true);
    expect(largest).toBeLessThanOrEqual(PAGE * 1.1);
    expect(pages.length).toBeGreaterThanOrEqual(Math.floor(members.length / (PAGE * 1.1)));
    expect(result.pagesScanned).toBe(pages.length);
    expect(await redis.exists(tagKey(tag))).toBe(0);
    let left = 0;
    for (let i = 0; i < members.length; i += 5_000) left += await redis.exists(...members.slice(i, i + 5_000));
    expect(left).toBe(0);
  }, 120_000);

  it('keeps a member a fill registers while the pages go by, for the next invalidation', async () => {
    const tag = `${prefix}busy-tag`;
    await seed(
      Array.from({ length: 2_000 }, (_, i) => `${prefix}busy:${i}`),
      tag,
    );
    const applier = new RedisApplier(redis, pino({ level: 'silent' }), { pageSize: 50 });
    const late = `${prefix}busy:late`;
    // Registered once the expansion is under way (the first pages are gone), as a concurrent fill would.
    const expansion = applier.apply([event({ tags: [tag] })]);
    await eventually('expansion under way', async () => ((await redis.scard(tagKey(tag))) < 2_000 ? true : undefined));
    await redis.sadd(tagKey(tag), late);
    await redis.hset(late, 'd', 'filled after the change');
    expect((await expansion).failed).toEqual([]);
    // Deleted with the rest, or left registered: never cached without its registration.
    const stillCached = await redis.exists(late);
    if (stillCached) expect(await redis.sismember(tagKey(tag), late)).toBe(1);
  });

  it('expands a pattern a SCAN page at a time, deleting each page before the next', async () => {
    const matching = Array.from({ length: 5_000 }, (_, i) => `${prefix}pat:${i}`);
    await seed(matching);
    await redis.hset(`${prefix}other:1`, 'd', 'kept');
    const applier = new RedisApplier(redis, pino({ level: 'silent' }), { pageSize: PAGE });
    const result = await applier.apply([event({ operation: Operation.MANUAL, patterns: [`${prefix}pat:*`] })]);
    expect(result).toMatchObject({ keysUnlinked: 5_000, patternsScanned: 1, failed: [] });
    // The whole keyspace is walked in steps of about PAGE keys, not one reply with every match.
    expect(result.pagesScanned).toBeGreaterThanOrEqual(Math.floor((await redis.dbsize()) / (PAGE * 2)));
    expect(await redis.exists(`${prefix}other:1`)).toBe(1);
  });

  it('gives version keys a lifetime, and a key bumped after it expired never repeats an old value', async () => {
    const applier = new RedisApplier(redis, pino({ level: 'silent' }), { versionTtlMs: 300 });
    const versions = Array.from({ length: 2_000 }, (_, i) => `ver:${prefix}row:${i}`);
    await applier.apply([event({ versions })]);
    const first = Number(await redis.get(versions[0]!));
    expect(await redis.pttl(versions[0]!)).toBeGreaterThan(0);
    await eventually('every version key expired', async () =>
      (await redis.exists(...versions)) === 0 ? true : undefined,
    );
    // A plain INCR would start again at 1; an entry filled under the old value must not match.
    await applier.apply([event({ versions: [versions[0]!] })]);
    expect(Number(await redis.get(versions[0]!))).toBeGreaterThan(first);
  });

  it('moves an existing INCR counter up to the clock on its next bump, and refuses a non-integer as the event’s fault', async () => {
    const applier = new RedisApplier(redis, pino({ level: 'silent' }));
    await redis.set(`ver:${prefix}legacy`, '41');
    await redis.set(`ver:${prefix}garbage`, 'abc');
    const result = await applier.apply([
      event({ id: 'legacy', versions: [`ver:${prefix}legacy`] }),
      event({ id: 'garbage', versions: [`ver:${prefix}garbage`] }),
    ]);
    expect(Number(await redis.get(`ver:${prefix}legacy`))).toBeGreaterThan(41);
    expect(result.failed.map((f) => [f.eventId, f.error.stage])).toEqual([['garbage', 'incr']]);
    expect(result.failed[0]!.error.message).toMatch(/not an integer/);
  });
});
