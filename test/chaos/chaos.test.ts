import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RegionEndpoints, readSandboxState } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupLag } from '../invalidator/harness.js';
import { eventually, withDb } from '../support.js';
import { checkRegion, eventCountMismatches, updateEventsPerKey } from './checker.js';
import { missingForChaos } from './prerequisites.js';
import { type RunningSandbox, startSandbox } from './sandbox-cli.js';
import { Workload } from './workload.js';

/**
 * The chaos suite: the whole fabric (`fabric up --netns`: three regions, each in its own
 * network namespace, readers and invalidators supervised) under concurrent writes at the
 * primary and leased cache-aside reads in every region, while a schedule of faults runs
 * through the operator scripts in deploy/chaos. After healing and quiescing, every region
 * must hold zero stale keys and have seen every committed change.
 */
const STATE_DIR = path.resolve('.fabric/test-chaos');
const PORT_BASE = 30400;
const FIRST_ID = 9_100_000;
const IDS = Array.from({ length: 200 }, (_, i) => FIRST_ID + i);
const PROBE_ID = FIRST_ID - 1;
const MISSING = missingForChaos();
const IN_CI = process.env.CI === 'true';
if (MISSING.length > 0 && !IN_CI)
  process.stderr.write(`[chaos] SKIPPED: the chaos suite needs ${MISSING.join(' and ')} (in CI this fails)\n`);

interface FaultReport {
  fault: string;
  heldMs: number;
  convergedMs: number;
}

// A suite that cannot run is a failure in CI, never a silent pass; elsewhere a visible skip.
if (MISSING.length > 0) {
  describe('chaos prerequisites', () => {
    it.skipIf(!IN_CI)(`missing: ${MISSING.join(' and ')}`, () => {
      throw new Error(
        `the chaos suite cannot run: it needs ${MISSING.join(' and ')}. CI=true, so this fails instead of skipping; run it as root with iproute2 installed.`,
      );
    });
  });
}

describe.runIf(MISSING.length === 0)('chaos: faults under load, then zero stale and zero lost', () => {
  let sandbox: RunningSandbox;
  let regions: RegionEndpoints[];
  let home: RegionEndpoints;

  beforeAll(async () => {
    rmSync(STATE_DIR, { recursive: true, force: true });
    sandbox = await startSandbox(STATE_DIR, PORT_BASE);
    regions = sandbox.endpoints.regions;
    home = regions.find((r) => r.home)!;
    await withDb(home, (db) =>
      db.query(
        `insert into users (id, team_id, name) select g, 1, 'seed' from generate_series($1::bigint, $2::bigint) g`,
        [PROBE_ID, IDS.at(-1)],
      ),
    );
    for (const r of regions) {
      await eventually(
        `${r.region} has the seed rows`,
        () =>
          withDb(r, async (db) =>
            (await db.query('select count(*)::int as n from users where id >= $1', [PROBE_ID])).rows[0].n ===
            IDS.length + 1
              ? true
              : undefined,
          ),
        60_000,
      );
    }
  }, 120_000);
  afterAll(async () => {
    await sandbox?.stop();
  });

  /** Where the primary is now: a failover fault moves it. */
  function currentHome(): RegionEndpoints {
    return readSandboxState(STATE_DIR)?.endpoints.regions.find((r) => r.home) ?? home;
  }

  /** Every regional database at the primary's state for `ids`, and every invalidator caught up. */
  async function quiesce(ids: number[]): Promise<number> {
    const started = Date.now();
    const finalRows = await withDb(
      currentHome(),
      async (db) =>
        (await db.query('select id, name from users where id = any($1::bigint[])', [ids])).rows as Array<{
          id: string;
          name: string;
        }>,
    );
    for (const r of regions) {
      await eventually(
        `${r.region} database caught up`,
        () =>
          withDb(r, async (db) => {
            const rows = (await db.query('select id, name from users where id = any($1::bigint[])', [ids]))
              .rows as Array<{ id: string; name: string }>;
            const there = new Map(rows.map((x) => [x.id, x.name]));
            return finalRows.every((x) => there.get(x.id) === x.name) ? true : undefined;
          }),
        120_000,
      );
      await eventually(
        `${r.region} invalidator caught up`,
        async () => ((await groupLag(r, `fabric-invalidator-${r.region}`, r.kafka.topic)) === 0 ? true : undefined),
        120_000,
      );
    }
    return Date.now() - started;
  }

  /**
   * Convergence after a fault: a change committed at the primary once the fault is healed,
   * seen invalidated in every region's Redis. Measures the whole path end to end.
   */
  async function convergence(label: string): Promise<number> {
    const started = Date.now();
    const key = `user:${PROBE_ID}`;
    const caches = regions.map((r) => new Redis(r.redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 }));
    caches.forEach((c) => c.on('error', () => {}));
    try {
      await Promise.all(
        caches.map((c) =>
          eventually(
            `${label}: redis answers`,
            async () => ((await c.hset(key, 'd', '"probe"', 'v', '0')) >= 0 ? true : undefined),
            60_000,
          ),
        ),
      );
      await withDb(currentHome(), (db) =>
        db.query('update users set name = $2 where id = $1', [PROBE_ID, `probe-${started}`]),
      );
      await Promise.all(
        caches.map((c, i) =>
          eventually(
            `${label}: ${regions[i]!.region} converged`,
            async () => ((await c.exists(key)) === 0 ? true : undefined),
            120_000,
          ),
        ),
      );
      return Date.now() - started;
    } finally {
      caches.forEach((c) => c.disconnect());
    }
  }

  it('survives partition, kill -9, broker restart, Redis outage and a paused invalidator', async () => {
    const [, edge, far] = regions as [RegionEndpoints, RegionEndpoints, RegionEndpoints];
    const workload = new Workload(regions, IDS, { writers: 3, readersPerRegion: 2, writePauseMs: 15 });
    workload.start();
    const reports: FaultReport[] = [];
    const fault = async (
      name: string,
      inject: () => Promise<unknown>,
      holdMs: number,
      heal: () => Promise<unknown>,
    ) => {
      await inject();
      await sleep(holdMs);
      await heal();
      reports.push({ fault: name, heldMs: holdMs, convergedMs: await convergence(name) });
      await sleep(2_000);
    };

    await sleep(3_000);
    await fault(
      `partition ${edge.region} 20 s`,
      () => sandbox.chaos('partition', edge.region),
      20_000,
      () => sandbox.chaos('partition', edge.region, '--heal'),
    );
    await fault(
      `kill -9 ${far.region} cdc-reader`,
      () => sandbox.chaos('signal', far.region, 'cdc-reader', 'kill'),
      0,
      async () => undefined,
    );
    await fault(
      `restart ${home.region} kafka`,
      () => sandbox.chaos('service', 'stop', home.region, 'kafka'),
      3_000,
      () => sandbox.chaos('service', 'start', home.region, 'kafka'),
    );
    await fault(
      `${edge.region} redis down 10 s`,
      () => sandbox.chaos('service', 'stop', edge.region, 'redis'),
      10_000,
      () => sandbox.chaos('service', 'start', edge.region, 'redis'),
    );
    await fault(
      `pause ${far.region} invalidator 10 s`,
      () => sandbox.chaos('signal', far.region, 'invalidator', 'pause'),
      10_000,
      () => sandbox.chaos('signal', far.region, 'invalidator', 'resume'),
    );
    await sleep(2_000);
    await workload.stop();

    // Quiesce: every regional database at the primary's state, every invalidator caught up.
    const quiescedMs = await quiesce(IDS);

    const verdicts = [];
    const eventsByRegion = new Map<string, Map<string, Set<string>>>();
    const writesPerKey = new Map<string, number>();
    for (const [id, n] of workload.writesPerId) writesPerKey.set(`user:${id}`, n);
    for (const r of regions) {
      const verdict = await checkRegion(r, workload.committed, IDS);
      const events = await updateEventsPerKey(r, `user:${FIRST_ID.toString().slice(0, 3)}`);
      eventsByRegion.set(r.region, events);
      const wrongEventCounts = eventCountMismatches(writesPerKey, events);
      const dlq = await deadLetterCount(r);
      verdicts.push({ ...verdict, wrongEventCounts, deadLetters: dlq });
    }

    const report = {
      stats: workload.stats,
      faults: reports,
      quiescedMs,
      regions: verdicts.map((v) => ({
        region: v.region,
        cachedKeys: v.cachedKeys,
        stale: v.stale.length,
        lost: v.lost.length,
        wrongEventCounts: v.wrongEventCounts.length,
        deadLetters: v.deadLetters,
      })),
    };
    mkdirSync(STATE_DIR, { recursive: true });
    writeFileSync(path.join(STATE_DIR, 'chaos-report.json'), JSON.stringify({ ...report, details: verdicts }, null, 2));
    process.stderr.write(
      `[chaos] ${workload.stats.writes} writes, ${workload.stats.reads} cache reads (${workload.stats.readErrors} read errors during faults)\n` +
        reports.map((f) => `[chaos] ${f.fault}: converged ${f.convergedMs} ms after heal`).join('\n') +
        `\n[chaos] quiesced in ${quiescedMs} ms\n` +
        report.regions
          .map(
            (v) =>
              `[chaos] ${v.region}: ${v.cachedKeys} cached keys, ${v.stale} stale, ${v.lost} lost changes, ${v.wrongEventCounts} keys without one event per change, ${v.deadLetters} dead letters`,
          )
          .join('\n') +
        '\n',
    );

    expect(workload.stats.writes).toBeGreaterThan(1_000);
    // The primary is never faulted, so every write's outcome is known: the exact count of
    // changes per key below is ground truth only while no write ended in an error.
    expect(workload.stats.writeErrors).toBe(0);
    expect(workload.stats.reads).toBeGreaterThan(1_000);
    for (const v of verdicts) {
      expect(v.cachedKeys, `${v.region} should hold cached keys to check`).toBeGreaterThan(25);
      expect(v.stale, `${v.region} stale keys`).toEqual([]);
      expect(v.lost, `${v.region} lost changes`).toEqual([]);
      expect(v.wrongEventCounts, `${v.region} keys without exactly one invalidation event per change`).toEqual([]);
    }

    // The checker itself must be able to fail: a planted stale value, a row changed behind
    // the writers' back and a change without its event are all reported.
    const planted = new Redis(edge.redis.url);
    try {
      await planted.hset(`user:${IDS[0]}`, 'd', JSON.stringify('planted-stale'), 'v', '1');
      const tampered = new Map(workload.committed).set(IDS[1]!, 'never-written');
      const control = await checkRegion(edge, tampered, IDS);
      expect(control.stale.map((x) => x.key)).toEqual([`user:${IDS[0]}`]);
      expect(control.lost.map((x) => x.id)).toEqual([IDS[1]]);
      const [key, n] = [...writesPerKey][0]!;
      const oneMore = new Map(writesPerKey).set(key, n + 1);
      expect(eventCountMismatches(oneMore, eventsByRegion.get(edge.region)!)).toEqual([
        { key, writes: n + 1, events: n },
      ]);
    } finally {
      await planted.unlink(`user:${IDS[0]}`);
      planted.disconnect();
    }
  }, 600_000);

  /**
   * The continuity faults, on the same fabric: a region's slot dropped while writes go on
   * (its reader resyncs the region), then the home region moved to another region under
   * load (the rebuilt old primary resyncs, the others follow the new timeline). Writes that
   * fail while the primary moves have an unknown outcome, so those rows are written once
   * more before checking, and per-change event counts are not asserted here: a resync
   * replaces the events of its gap by dropping the region's entries.
   */
  it('survives a dropped slot and a home failover: zero stale and zero lost', async () => {
    const [, edge, far] = regions as [RegionEndpoints, RegionEndpoints, RegionEndpoints];
    const workload = new Workload(regions, IDS, {
      writers: 3,
      readersPerRegion: 2,
      writePauseMs: 15,
      home: currentHome,
    });
    workload.start();
    const reports: FaultReport[] = [];
    await sleep(3_000);

    let started = Date.now();
    await sandbox.chaos('service', 'stop', far.region, 'cdc-reader');
    await sandbox.chaos('slot', 'drop', far.region);
    await sleep(5_000);
    await sandbox.chaos('service', 'start', far.region, 'cdc-reader');
    reports.push({
      fault: `${far.region} slot dropped 5 s`,
      heldMs: Date.now() - started,
      convergedMs: await convergence('slot'),
    });
    await sleep(2_000);

    started = Date.now();
    await sandbox.chaos('failover', '--to', edge.region);
    const heldMs = Date.now() - started;
    reports.push({ fault: `home failover to ${edge.region}`, heldMs, convergedMs: await convergence('failover') });
    expect(currentHome().region).toBe(edge.region);
    await sleep(3_000);
    await workload.stop();
    await workload.settle();
    const quiescedMs = await quiesce(IDS);

    const verdicts = await Promise.all(regions.map((r) => checkRegion(r, workload.committed, IDS)));
    const resyncs = await Promise.all(regions.map(async (r) => [r.region, await lastResync(r)] as const));
    process.stderr.write(
      `[chaos] ${workload.stats.writes} writes (${workload.writesAfterMove} at the new primary, ${workload.stats.writeErrors} failed while it moved), ${workload.stats.reads} cache reads\n` +
        reports.map((f) => `[chaos] ${f.fault}: took ${f.heldMs} ms, converged ${f.convergedMs} ms after`).join('\n') +
        `\n[chaos] quiesced in ${quiescedMs} ms\n` +
        verdicts
          .map(
            (v) =>
              `[chaos] ${v.region}: ${v.cachedKeys} cached keys, ${v.stale.length} stale, ${v.lost.length} lost changes`,
          )
          .join('\n') +
        '\n' +
        resyncs.map(([r, c]) => `[chaos] ${r}: last resync ${JSON.stringify(c)}`).join('\n') +
        '\n',
    );
    expect(workload.writesAfterMove).toBeGreaterThan(100);
    for (const v of verdicts) {
      expect(v.cachedKeys, `${v.region} should hold cached keys to check`).toBeGreaterThan(25);
      expect(v.stale, `${v.region} stale keys`).toEqual([]);
      expect(v.lost, `${v.region} lost changes`).toEqual([]);
    }
    // The faults did what they should: the far region resynced for its slot. Physical standbys
    // rebuild the old home, whose slot is then gone (a resync); a logical old home keeps its slot.
    expect(new Map(resyncs).get(far.region)).toMatchObject({ reason: 'slot-recreated' });
    if (sandbox.endpoints.replication === 'physical')
      expect(new Map(resyncs).get(home.region)).toMatchObject({ reason: 'slot-recreated' });
    else expect(new Map(resyncs).get(home.region)?.reason).toBeUndefined();
  }, 600_000);
});

/** The newest resync of a region, as its invalidator reports it on /healthz. */
async function lastResync(region: RegionEndpoints): Promise<Record<string, unknown> | undefined> {
  const host = region.redis.host;
  const res = await fetch(`http://${host}:${region.metrics.invalidator}/healthz`);
  return ((await res.json()) as { continuity?: Record<string, unknown> }).continuity;
}

async function deadLetterCount(region: RegionEndpoints): Promise<number> {
  const admin = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(region.kafka.deadLetterTopic)).reduce(
      (n, p) => n + Number(p.high) - Number(p.low),
      0,
    );
  } finally {
    await admin.disconnect();
  }
}
