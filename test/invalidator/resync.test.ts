import { continuityKey, RESYNC_DONE_PREFIX, resyncKey } from '@fabric/contracts';
import { type ApplyResult, RedisApplier } from '@fabric/invalidator';
import type { InvalidationEvent } from '@fabric/proto';
import { leaseKey } from '@fabric/sdk';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import {
  type ResyncControl,
  ResyncError,
  type ResyncJob,
  ResyncRunner,
} from '../../packages/invalidator/src/resync-runner.js';
import { ResyncStore } from '../../packages/invalidator/src/resync-store.js';

/**
 * The region's Redis is shared: the sandbox's own reader and invalidator keep their
 * continuity and resync records in it (db 0), and other test files write there too. A
 * resync SCANs the whole keyspace, so this file works in a database of its own on that
 * server, where every key is one it planted, under a topic of its own besides.
 */
const DB = 13;
const TOPIC = `fabric.inval.rtest.${process.pid}`;
const RESYNC_KEY = resyncKey(TOPIC);
const CONTINUITY_KEY = continuityKey(TOPIC);
const KEYS = 2_000;
const PAGE = 50;
const logger = pino({ level: 'silent' });

const userKey = (n: number) => `rtest:user:${n}`;
const noRecovery = { keys: [], tags: [], versions: [], patterns: [] };

let seq = 0;
const job = (recovery: Partial<ResyncJob['recovery']> = {}): ResyncJob => ({
  id: `rtest:resync:${process.pid}:${seq++}`,
  reason: 'operator',
  detail: 'integration test',
  recovery: { ...noRecovery, ...recovery },
});

const always: ResyncControl = { heartbeat: async () => {}, isRunning: () => true };

describe('ResyncRunner against real Redis', () => {
  const { host, port } = inject('endpoints').regions[0]!.redis;
  let redis: Redis;
  /** A connection of its own for the runner's SCANs, so they can be watched. */
  let scanner: Redis;
  let applier: RedisApplier;

  /** Keys dropped and keys handed to apply, per call, across runners. */
  const applies: number[] = [];

  const runner = (
    store = new ResyncStore(redis, TOPIC),
    hooks: Partial<ConstructorParameters<typeof ResyncRunner>[0]> = {},
  ) =>
    new ResyncRunner({
      store,
      apply: async (events: InvalidationEvent[]): Promise<ApplyResult> => {
        applies.push(events.reduce((n, e) => n + e.keys.length, 0));
        return applier.apply(events);
      },
      masters: () => [scanner],
      pageSize: PAGE,
      logger,
      ...hooks,
    });

  async function plant(): Promise<void> {
    const pipe = redis.pipeline();
    for (let n = 0; n < KEYS; n++) {
      if (n % 2 === 0) pipe.hset(userKey(n), { v: `value ${n}`, ver: '1' });
      else pipe.set(userKey(n), `value ${n}`);
      pipe.set(leaseKey(userKey(n)), `token ${n}`, 'PX', 60_000);
    }
    for (let n = 0; n < 200; n++) pipe.set(`other:${n}`, `keep ${n}`);
    await pipe.exec();
  }

  async function count(pattern: string): Promise<number> {
    let cursor = '0';
    let total = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      total += keys.length;
      cursor = next;
    } while (cursor !== '0');
    return total;
  }

  /** Only what this file planted: the database is its own, but it still deletes by name. */
  async function cleanup(): Promise<void> {
    for (const pattern of [
      'rtest:*',
      'lease:{rtest:*',
      'lease:rtest:*',
      'other:*',
      'ver:rtest*',
      'fabric:resync:done:rtest:*',
    ]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    await redis.unlink(CONTINUITY_KEY, RESYNC_KEY);
  }

  beforeAll(async () => {
    redis = new Redis({ host, port, db: DB, lazyConnect: true });
    scanner = new Redis({ host, port, db: DB, lazyConnect: true });
    await Promise.all([redis.connect(), scanner.connect()]);
    applier = new RedisApplier(redis, logger);
    await cleanup();
  });
  beforeEach(async () => {
    applies.length = 0;
    await cleanup();
    await plant();
  });
  afterAll(async () => {
    await cleanup();
    redis.disconnect();
    scanner.disconnect();
  });

  it('drops every key a pattern matches, and its lease, page by page, and remembers it finished', async () => {
    const started: string[] = [];
    const finished: Array<[string, number]> = [];
    const r = runner(undefined, {
      onStarted: (j) => void started.push(j.id),
      onFinished: (j, keys) => void finished.push([j.id, keys]),
    });
    const j = job({ patterns: ['rtest:user:*'] });
    let heartbeats = 0;
    const outcome = await r.run(j, { heartbeat: async () => void heartbeats++, isRunning: () => true });

    expect(outcome).toEqual({ status: 'done', keysDropped: KEYS });
    expect(await count('rtest:user:*')).toBe(0);
    expect(await count('lease:{rtest:user:*')).toBe(0);
    expect(await count('other:*')).toBe(200);
    // Paged: many SCAN steps with a heartbeat each, no page far beyond the COUNT.
    expect(heartbeats).toBeGreaterThan(KEYS / (PAGE * 10));
    expect(Math.max(...applies)).toBeLessThanOrEqual(PAGE * 10);

    const progress = await redis.hgetall(RESYNC_KEY);
    expect(progress).toMatchObject({ id: j.id, state: 'done', keysDropped: String(KEYS), cursor: '0', step: '2' });
    expect(Date.parse(progress.finishedAt!)).not.toBeNaN();
    expect(await redis.get(RESYNC_DONE_PREFIX + j.id)).toBe(String(KEYS));
    expect(await redis.ttl(RESYNC_DONE_PREFIX + j.id)).toBeGreaterThan(24 * 3600);
    expect(started).toEqual([j.id]);
    expect(finished).toEqual([[j.id, KEYS]]);
    expect(r.continuity).toMatchObject({ state: 'ok', resyncId: j.id, keysDropped: KEYS });

    // A late copy of the same resync (another partition's, or after a restart) changes nothing.
    await redis.set(userKey(1), 'filled after the resync');
    const calls = applies.length;
    expect(await r.run(j, always)).toEqual({ status: 'done', keysDropped: KEYS });
    expect(await runner().run(j, always)).toEqual({ status: 'done', keysDropped: KEYS });
    expect(applies.length).toBe(calls);
    expect(await redis.get(userKey(1))).toBe('filled after the resync');
    expect(started).toEqual([j.id]);
  });

  it('runs concurrent copies of one resync once', async () => {
    let starts = 0;
    const r = runner(undefined, { onStarted: () => void starts++ });
    const j = job({ patterns: ['rtest:user:*'] });
    const outcomes = await Promise.all([r.run(j, always), r.run(j, always), r.run(j, always)]);
    expect(outcomes).toEqual(Array.from({ length: 3 }, () => ({ status: 'done', keysDropped: KEYS })));
    expect(starts).toBe(1);
    expect(applies.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(KEYS);
    expect(applies.reduce((a, b) => a + b, 0)).toBeLessThan(KEYS * 1.5);
  });

  it('resumes an interrupted resync where it stopped, in a fresh runner, without counting a key twice', async () => {
    const j = job({ patterns: ['rtest:user:*'] });
    const started: string[] = [];
    let beats = 0;
    const stopping: ResyncControl = { heartbeat: async () => void beats++, isRunning: () => beats < 5 };
    const first = runner(undefined, { onStarted: (x) => void started.push(x.id) });
    expect(await first.run(j, stopping)).toEqual({ status: 'interrupted' });

    const saved = await redis.hgetall(RESYNC_KEY);
    expect(saved).toMatchObject({ id: j.id, state: 'resyncing', step: '1', node: '0' });
    expect(saved.cursor).not.toBe('0');
    const droppedBefore = Number(saved.keysDropped);
    expect(droppedBefore).toBeGreaterThan(0);
    expect(droppedBefore).toBeLessThan(KEYS);
    expect(await count('rtest:user:*')).toBe(KEYS - droppedBefore);
    expect(await redis.exists(RESYNC_DONE_PREFIX + j.id)).toBe(0);
    expect(first.continuity).toMatchObject({ state: 'resyncing', resyncId: j.id, keysDropped: droppedBefore });

    // A restarted invalidator: a new runner and store over the same Redis.
    const second = runner(new ResyncStore(redis, TOPIC), { onStarted: (x) => void started.push(x.id) });
    await second.load();
    expect(second.continuity).toMatchObject({ state: 'resyncing', resyncId: j.id, keysDropped: droppedBefore });
    const scans = vi.spyOn(scanner, 'scan');
    try {
      expect(await second.run(j, always)).toEqual({ status: 'done', keysDropped: KEYS });
      // It went on from the saved cursor instead of starting the node over.
      expect(scans.mock.calls[0]?.[0]).toBe(saved.cursor);
    } finally {
      scans.mockRestore();
    }

    expect(await count('rtest:user:*')).toBe(0);
    expect(await count('lease:{rtest:user:*')).toBe(0);
    expect(await count('other:*')).toBe(200);
    expect(await redis.hget(RESYNC_KEY, 'state')).toBe('done');
    expect(await redis.get(RESYNC_DONE_PREFIX + j.id)).toBe(String(KEYS));
    expect(started).toEqual([j.id]);
    // Memory stays at about a page, whatever the keyspace.
    expect(Math.max(...applies)).toBeLessThanOrEqual(PAGE * 10);
  });

  it('applies the recovery action the reader recorded when the event carries none', async () => {
    await redis.set('rtest:config', 'cached');
    await redis.hset(
      CONTINUITY_KEY,
      'recovery',
      JSON.stringify({ keys: ['rtest:config'], tags: [], versions: ['ver:rtest:users'], patterns: ['rtest:user:*'] }),
    );
    const j = job();
    expect(await runner().run(j, always)).toEqual({ status: 'done', keysDropped: KEYS + 1 });
    expect(await redis.exists('rtest:config')).toBe(0);
    expect(Number(await redis.get('ver:rtest:users'))).toBeGreaterThan(1_000_000_000_000_000);
    expect(await count('rtest:user:*')).toBe(0);
    expect(await count('other:*')).toBe(200);
  });

  it('prefers the recovery action in the event to the recorded one', async () => {
    await redis.hset(CONTINUITY_KEY, 'recovery', JSON.stringify({ patterns: ['other:*'] }));
    expect(await runner().run(job({ keys: [userKey(0), userKey(1)] }), always)).toEqual({
      status: 'done',
      keysDropped: 2,
    });
    expect(await count('other:*')).toBe(200);
    expect(await count('rtest:user:*')).toBe(KEYS - 2);
  });

  it('refuses a resync with no recovery action anywhere, pointing at the CDC reader, and records nothing', async () => {
    await redis.unlink(CONTINUITY_KEY);
    const j = job();
    const run = runner().run(j, always);
    await expect(run).rejects.toBeInstanceOf(ResyncError);
    await expect(run).rejects.toThrow(/CDC reader/);
    expect(await redis.exists(RESYNC_KEY, RESYNC_DONE_PREFIX + j.id)).toBe(0);
    expect(await count('rtest:user:*')).toBe(KEYS);

    // A recorded action that names nothing is no action either.
    await redis.hset(CONTINUITY_KEY, 'recovery', JSON.stringify(noRecovery));
    await expect(runner().run(job(), always)).rejects.toThrow(/CDC reader/);
  });
});
