import type { RegionEndpoints } from '@fabric/sandbox';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_RULES, decodeEvent, Operation, type ReaderUnderTest, readerFor, readTopic } from '../cdc/harness.js';
import { type InvalidatorUnderTest, invalidatorFor } from '../invalidator/harness.js';
import { eventually, withDb } from '../support.js';
import { CachedUsers, resyncFinished } from './scenario.js';

// A region whose slot is lost while writes go on must not keep what it cached before the
// loss: the reader finds the gap at its next start and the invalidator drops the recovery
// action's keys. Each case also runs with continuity off, the old behaviour, to show that
// the same gap then leaves stale entries behind.

let home: RegionEndpoints;
let edge: RegionEndpoints;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  const endpoints = inject('endpoints');
  home = endpoints.regions.find((r) => r.home)!;
  edge = endpoints.regions.find((r) => !r.home)!;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Pipeline {
  reader: ReaderUnderTest;
  invalidator: InvalidatorUnderTest;
  users: CachedUsers;
}

async function pipeline(region: RegionEndpoints, name: string, continuity: 'on' | 'off'): Promise<Pipeline> {
  const reader = await readerFor(region, {
    rules: DEMO_RULES,
    name,
    heartbeatMs: 500,
    extraArgs: ['--continuity', continuity],
  });
  cleanups.push(() => reader.dispose());
  const invalidator = await invalidatorFor(region, { topic: reader.topic, name: `${name}_inv` });
  cleanups.push(() => invalidator.dispose());
  const users = new CachedUsers(region, home, 40);
  cleanups.push(() => users.dispose());
  await users.create();
  await reader.start();
  await invalidator.start();
  return { reader, invalidator, users };
}

/** Invalidations flow: a change to one row deletes its cached entry. */
async function provesFlowing({ users }: Pipeline, id: number, name: string): Promise<void> {
  await users.fill([id]);
  await users.update([id], name);
  await eventually(
    `user:${id} invalidated`,
    async () => ((await users.stale()).includes(id) ? undefined : true),
    30_000,
  );
}

/** The gap: the reader is down and its slot goes away while rows change; the cache still has them. */
async function lose(p: Pipeline, loseSlot: () => Promise<void>): Promise<number[]> {
  await p.reader.kill();
  await p.users.fill();
  await loseSlot();
  const changed = p.users.ids.slice(0, 30);
  await p.users.update(changed, 'v-gap');
  expect((await p.users.stale()).length).toBe(changed.length);
  return changed;
}

async function dropSlot(region: RegionEndpoints, slot: string): Promise<void> {
  await withDb(region, (db) => db.query('select pg_drop_replication_slot($1)', [slot]));
}

describe('continuity through a lost slot', () => {
  it('resyncs a region whose slot was dropped while writes went on: zero stale entries', async () => {
    const p = await pipeline(home, 'drop', 'on');
    await provesFlowing(p, p.users.ids[39]!, 'v1');
    await lose(p, () => dropSlot(home, p.reader.slot));
    const started = Date.now();
    await p.reader.start();
    const resync = await resyncFinished(p.invalidator);
    const seconds = (Date.now() - started) / 1000;
    expect(resync.reason).toBe('slot-recreated');
    expect(resync.keysDropped).toBeGreaterThanOrEqual(30);
    expect(await p.users.stale()).toEqual([]);
    const events = await readTopic(home, p.reader.topic, decodeEvent, (all) =>
      all.some((e) => e.operation === Operation.RESYNC),
    );
    const copies = events.filter((e) => e.operation === Operation.RESYNC);
    expect(copies[0]!.resync).toMatchObject({ reason: 'slot-recreated', copies: 3 });
    expect(copies[0]!.patterns).toEqual(expect.arrayContaining(['user:*', 'product:*', 'team:*']));
    console.log(
      `slot dropped: resync ${resync.resyncId} took ${seconds.toFixed(1)} s, dropped ${resync.keysDropped} keys`,
    );
    // And it streams on: a change after the resync is invalidated as ever.
    await provesFlowing(p, p.users.ids[35]!, 'v2');
  });

  it('leaves the gap stale with continuity off: the failure the check prevents', async () => {
    const p = await pipeline(home, 'dropoff', 'off');
    await provesFlowing(p, p.users.ids[39]!, 'v1');
    const changed = await lose(p, () => dropSlot(home, p.reader.slot));
    await p.reader.start();
    await provesFlowing(p, p.users.ids[35]!, 'v2');
    expect(await p.users.stale()).toEqual(changed);
  });

  it('resyncs a standby region whose slot max_slot_wal_keep_size invalidated: zero stale entries', async () => {
    const p = await pipeline(edge, 'lost', 'on');
    await provesFlowing(p, p.users.ids[39]!, 'v1');
    await lose(p, () => invalidateSlot(edge, p.reader.slot));
    const started = Date.now();
    await p.reader.start();
    const resync = await resyncFinished(p.invalidator);
    const seconds = (Date.now() - started) / 1000;
    expect(resync.reason).toBe('slot-invalidated');
    expect(await p.users.stale()).toEqual([]);
    console.log(
      `slot invalidated: resync ${resync.resyncId} took ${seconds.toFixed(1)} s, dropped ${resync.keysDropped} keys`,
    );
    await provesFlowing(p, p.users.ids[35]!, 'v2');
  });
});

/**
 * Makes PostgreSQL invalidate the stopped reader's slot the way production does: a small
 * max_slot_wal_keep_size, WAL pushed past it at the primary, and a restartpoint on the
 * region's server (a checkpoint on a primary) that removes the WAL the slot still needed.
 */
async function invalidateSlot(region: RegionEndpoints, slot: string): Promise<void> {
  await withDb(region, async (db) => {
    await db.query(`alter system set max_slot_wal_keep_size = '1MB'`);
    await db.query('select pg_reload_conf()');
  });
  try {
    await eventually(
      `slot ${slot} invalidated`,
      async () => {
        await withDb(home, async (db) => {
          for (let i = 0; i < 3; i++) {
            await db.query('create temp table if not exists wal_push (x text)');
            await db.query(`insert into wal_push select repeat('x', 1000) from generate_series(1, 3000)`);
            await db.query('select pg_switch_wal()');
          }
          await db.query('checkpoint');
        });
        return withDb(region, async (db) => {
          await db.query('checkpoint');
          const { rows } = await db.query('select wal_status from pg_replication_slots where slot_name = $1', [slot]);
          return rows[0]?.wal_status === 'lost' ? true : undefined;
        });
      },
      90_000,
    );
  } finally {
    await withDb(region, async (db) => {
      await db.query('alter system reset max_slot_wal_keep_size');
      await db.query('select pg_reload_conf()');
    });
  }
}
