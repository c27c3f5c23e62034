import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type RegionEndpoints, resolveSandboxConfig, Sandbox } from '@fabric/sandbox';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, withDb } from '../support.js';

/**
 * Logical decoding on a physical standby, on real servers. A sandbox of its own: the last
 * test invalidates the standby's slot on purpose, which would break the shared sandbox.
 */
const READER = path.resolve('packages/cdc-reader/dist/main.js');
const RULES = path.resolve('deploy/key-rules.demo.yaml');
const STATE_DIR = path.resolve('.fabric/test-standby');
const POSTGRES = Number(process.env.FABRIC_TEST_STANDBY_POSTGRES ?? 17);

let sandbox: Sandbox;
let home: RegionEndpoints;
let edge: RegionEndpoints;
const readers: ChildProcess[] = [];

function startReader(
  region: RegionEndpoints,
  logName: string,
  extra: string[] = [],
): { child: ChildProcess; log: string } {
  const log = path.join(STATE_DIR, region.region, 'logs', `${logName}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(
    process.execPath,
    [
      READER,
      ...['--region', region.region, '--postgres', region.postgres.url, '--kafka', region.kafka.brokers.join(',')],
      ...['--rules', RULES, '--replication', 'physical', ...(region.home ? ['--home'] : [])],
      ...['--redis', region.redis.url, ...extra],
    ],
    { stdio: ['ignore', fd, fd], env: { ...process.env, FABRIC_LOG_LEVEL: 'info' } },
  );
  readers.push(child);
  return { child, log };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await exitOf(child);
}

async function slotOnEdge(): Promise<Record<string, unknown> | undefined> {
  return withDb(
    edge,
    async (db) =>
      (await db.query("select to_jsonb(s) as s from pg_replication_slots s where slot_name = 'fabric_cdc'")).rows[0]?.s,
  );
}

async function topicEnd(region: RegionEndpoints): Promise<number> {
  const admin = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(region.kafka.topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

describe.sequential(`logical decoding on a physical standby (PostgreSQL ${POSTGRES})`, () => {
  beforeAll(async () => {
    rmSync(STATE_DIR, { recursive: true, force: true });
    const config = resolveSandboxConfig({
      regions: ['sb-home', 'sb-edge'],
      portBase: 29400,
      stateDir: STATE_DIR,
      postgres: POSTGRES,
      replication: 'physical',
      partitions: 1,
    });
    sandbox = await Sandbox.start(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
    [home, edge] = sandbox.endpoints.regions as [RegionEndpoints, RegionEndpoints];
  });

  afterAll(async () => {
    await Promise.all(readers.map((r) => stop(r)));
    await sandbox?.stop();
  });

  it('creates the slot on the standby, with the publication the home reader made at the primary', async () => {
    startReader(home, 'reader-home');
    const { log } = startReader(edge, 'reader-edge');
    const slot = await eventually('the reader slot on the standby', async () => {
      const s = await slotOnEdge();
      return s?.active ? s : undefined;
    });
    expect(slot).toMatchObject({ slot_type: 'logical', plugin: 'pgoutput', database: 'fabric' });
    expect(await withDb(edge, async (db) => (await db.query('select pg_is_in_recovery() as r')).rows[0].r)).toBe(true);
    expect(readFileSync(log, 'utf8')).toContain('creating slot fabric_cdc on a standby');
  });

  it('decodes only what the standby has replayed: nothing while replay is paused, the change once it resumes', async () => {
    await withDb(home, (db) => db.query("insert into users (id, name) values (901, 'before') on conflict do nothing"));
    // Wait until the edge is caught up and its reader has published what it saw.
    await eventually('the edge caught up', async () => ((await topicEnd(edge)) > 0 ? true : undefined));
    await withDb(edge, (db) => db.query('select pg_wal_replay_pause()'));
    try {
      await eventually('replay paused', () =>
        withDb(edge, async (db) =>
          (await db.query('select pg_get_wal_replay_pause_state() as s')).rows[0].s === 'paused' ? true : undefined,
        ),
      );
      // Heartbeats stop too while replay is paused, so the topic must stand still.
      await new Promise((r) => setTimeout(r, 1_000));
      const before = await topicEnd(edge);
      await withDb(home, (db) => db.query("update users set name = 'after' where id = 901"));
      // A fixed window on purpose: the claim is that nothing arrives during it.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await topicEnd(edge)).toBe(before);
      expect(
        await withDb(edge, async (db) => (await db.query('select name from users where id = 901')).rows[0]?.name),
      ).toBe('before');
    } finally {
      await withDb(edge, (db) => db.query('select pg_wal_replay_resume()'));
    }
    const paused = await topicEnd(edge);
    await eventually('the change decoded after replay resumed', async () =>
      (await topicEnd(edge)) > paused ? true : undefined,
    );
  });

  it('replaces a slot the standby invalidated and resyncs; with continuity off refuses, naming the recovery', async () => {
    for (const child of readers.splice(0)) await stop(child);
    // Nothing may hold back the primary's vacuum: no logical slot there, no feedback from the standby.
    await withDb(home, (db) =>
      db.query("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_type = 'logical'"),
    );
    await withDb(edge, async (db) => {
      await db.query('alter system set hot_standby_feedback = off');
      await db.query('select pg_reload_conf()');
    });
    await eventually('the primary to forget the standby xmin', () =>
      withDb(home, async (db) => {
        const { rows } = await db.query(
          "select xmin, catalog_xmin from pg_replication_slots where slot_type = 'physical'",
        );
        return rows.every((r) => r.xmin === null && r.catalog_xmin === null) ? true : undefined;
      }),
    );
    // Catalog rows the standby slot still needs, removed at the primary: recovery then conflicts with the slot.
    const reason = await eventually(
      'the standby to invalidate its slot',
      async () => {
        await withDb(home, async (db) => {
          // Two transactions: a row created and removed by one transaction conflicts with nobody.
          await db.query('create table if not exists standby_conflict (x int)');
          await db.query('drop table standby_conflict');
          await db.query('vacuum pg_class');
          await db.query(
            "insert into teams (id, name) values (901, 'wal') on conflict (id) do update set name = 'wal'",
          );
        });
        const s = await slotOnEdge();
        return s?.conflicting === true ? String(s.invalidation_reason ?? 'conflict') : undefined;
      },
      60_000,
    );
    if (POSTGRES >= 17) expect(reason).toBe('rows_removed');

    // Without the continuity check there is nothing to cover the lost WAL: stop, and say how to recover.
    const off = startReader(edge, 'reader-edge-off', ['--continuity', 'off']);
    expect(await exitOf(off.child)).toBe(2);
    const text = readFileSync(off.log, 'utf8');
    expect(text).toContain('replication slot fabric_cdc was invalidated by PostgreSQL');
    expect(text).toContain('on this standby');
    expect(text).toContain("select pg_drop_replication_slot('fabric_cdc')");

    // With it (the default): the slot is dropped and made again, and the gap is a resync.
    await withDb(edge, async (db) => {
      await db.query('alter system reset hot_standby_feedback');
      await db.query('select pg_reload_conf()');
    });
    const on = startReader(edge, 'reader-edge-on');
    const gap = await eventually(
      'the reader to replace the slot and publish a resync',
      async () => {
        await withDb(home, (db) => db.query('select pg_log_standby_snapshot()'));
        const line = readFileSync(on.log, 'utf8')
          .split('\n')
          .find((l) => l.includes('continuity gap'));
        return line ? (JSON.parse(line) as { reason: string; msg: string }) : undefined;
      },
      60_000,
    );
    expect(gap.reason).toBe('slot-invalidated');
    expect((await slotOnEdge())?.conflicting).toBe(false);
  });
});
