import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RedisApplier } from '@fabric/invalidator';
import { FabricCache, type FabricCacheOptions } from '@fabric/sdk';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ownedDir, type ScratchPostgres, startScratchPostgres } from '../deploy/scratch-postgres.js';
import { cleanup, event, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('sync');
const options: FabricCacheOptions = { ttlSeconds: 60, ttlJitter: 0, leaseMs: 10_000, waitMs: 15_000 };

/**
 * The visibility window of a synchronous standby, made on purpose: a scratch primary whose
 * synchronous_standby_names names a standby that never connects, so a commit is written and
 * flushed (logical decoding already hands it out) but waits for an acknowledgement that
 * never comes, invisible to every other session. The window closes when the test drops the
 * standby requirement, which releases the waiting commit. In that window the invalidation is
 * applied, as the invalidator does once it has decoded the commit, and a reader misses.
 */
describe('a fill in the window between a commit being decoded and becoming visible', () => {
  const { host, port } = inject('endpoints').regions[0]!.redis;
  let dir: string;
  let db: ScratchPostgres;
  let redis: Redis;
  let writer: pg.Client;
  let reader: pg.Client;

  beforeAll(async () => {
    dir = ownedDir(mkdtempSync(path.join(tmpdir(), 'fabric-sdk-sync-standby-')));
    db = await startScratchPostgres({
      dir,
      name: 'primary',
      settings: { wal_level: 'logical', max_wal_senders: '4', max_replication_slots: '4' },
      portRange: { from: 31_800, count: 200 },
    });
    const connect = async () => {
      const c = new pg.Client({ host: '127.0.0.1', port: db.port, user: 'postgres', database: 'postgres' });
      await c.connect();
      return c;
    };
    [writer, reader] = [await connect(), await connect()];
    redis = new Redis({ host, port });
  });
  afterAll(async () => {
    await cleanup(redis, prefix);
    redis.disconnect();
    await writer?.end().catch(() => undefined);
    await reader?.end().catch(() => undefined);
    db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Commits name = 'new' for user `id` and returns once it is decoded but not yet visible. */
  async function openWindow(id: number, slot: string): Promise<{ commit: Promise<unknown> }> {
    await writer.query(`create table if not exists users (id int primary key, name text)`);
    await writer.query(`insert into users values (${id}, 'old')`);
    await writer.query(`select pg_create_logical_replication_slot('${slot}', 'test_decoding')`);
    await writer.query(`alter system set synchronous_standby_names = 'ghost'`);
    await writer.query('select pg_reload_conf()');
    await vi.waitFor(async () => {
      const [row] = (await reader.query('show synchronous_standby_names')).rows;
      expect(row.synchronous_standby_names).toBe('ghost');
    });
    const commit = writer.query(`update users set name = 'new' where id = ${id}`);
    await vi.waitFor(
      async () => {
        const changes = await reader.query(`select data from pg_logical_slot_peek_changes('${slot}', null, null)`);
        expect(changes.rows.map((r) => r.data).join('\n')).toContain(`id[integer]:${id} name[text]:'new'`);
      },
      { timeout: 10_000 },
    );
    // Decoded, and still invisible: this is the window.
    expect((await reader.query(`select name from users where id = ${id}`)).rows[0].name).toBe('old');
    return { commit };
  }

  async function closeWindow({ commit }: { commit: Promise<unknown> }, slot: string): Promise<void> {
    await reader.query(`alter system reset synchronous_standby_names`);
    await reader.query('select pg_reload_conf()');
    await commit;
    await reader.query(`select pg_drop_replication_slot('${slot}')`);
  }

  const load = (id: number) => async () =>
    String((await reader.query(`select name from users where id = ${id}`)).rows[0].name);

  it('without a tombstone, caches the old row: the window is real', async () => {
    const key = `${prefix}user:1`;
    const applier = new RedisApplier(redis, pino({ level: 'silent' }), { fillTombstoneMs: 0 });
    const cache = new FabricCache(redis, options);
    const pending = await openWindow(1, 'sync_window_1');
    expect((await applier.apply([event({ keys: [key] })])).failed).toEqual([]);
    expect(await cache.get(key, load(1))).toBe('old');
    await closeWindow(pending, 'sync_window_1');
    expect(await load(1)()).toBe('new');
    expect(await cache.get(key, load(1))).toBe('old'); // stale until its TTL
  });

  it('with the tombstone, the fill waits until the commit is visible and caches the new row', async () => {
    const key = `${prefix}user:2`;
    const applier = new RedisApplier(redis, pino({ level: 'silent' }), { fillTombstoneMs: 5_000 });
    const cache = new FabricCache(redis, options);
    const pending = await openWindow(2, 'sync_window_2');
    expect((await applier.apply([event({ keys: [key] })])).failed).toEqual([]);
    const got = cache.get(key, load(2));
    await vi.waitFor(() => expect(cache.stats.tombstoneWaits).toBeGreaterThan(0));
    expect(cache.stats.loads).toBe(0); // nothing read the database inside the window
    await closeWindow(pending, 'sync_window_2');
    expect(await got).toBe('new');
    expect(await cache.get(key, load(2))).toBe('new');
  });
});
