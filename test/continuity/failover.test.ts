import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type RegionEndpoints, readSandboxState } from '@fabric/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRegion } from '../chaos/checker.js';
import { Workload } from '../chaos/workload.js';
import { type FabricUpReady, startFabricUp, stopFabricUp } from '../fabric-up.js';
import { groupLag } from '../invalidator/harness.js';
import { eventually, withDb } from '../support.js';

// The home region moves to eu-west under a bounded write load: writes resume at the new
// primary, every region ends with zero stale cache entries and zero lost changes, and the
// control plane names eu-west as home. The old primary is rebuilt as a standby, so its
// reader finds its slot gone and resyncs; the others follow the new timeline and stream on.

const CLI = path.resolve('packages/cli/dist/bin.js');
const FIRST_ID = 9_300_000;
const IDS = Array.from({ length: 120 }, (_, i) => FIRST_ID + i);
const run = promisify(execFile);

/**
 * Both topologies: physical standbys rebuild the old primary (its slot is gone, so it
 * resyncs); logical replicas move their subscriptions and every slot survives (no resync).
 */
const TOPOLOGIES = [
  { replication: 'physical', postgres: '17', portBase: 22400, rebuilt: ['us-east'], oldHome: 'gap' },
  { replication: 'logical', postgres: '15', portBase: 22600, rebuilt: [], oldHome: 'continuous' },
] as const;

describe.each(TOPOLOGIES)('home-region failover, $replication replication', (topology) => {
  const STATE_DIR = path.resolve(`.fabric/test-failover-${topology.replication}`);
  let up: FabricUpReady;
  const current = (): RegionEndpoints[] => readSandboxState(STATE_DIR)?.endpoints.regions ?? up.endpoints.regions;
  const home = () => current().find((r) => r.home)!;

  beforeAll(async () => {
    rmSync(STATE_DIR, { recursive: true, force: true });
    up = await startFabricUp([
      ...['--port-base', String(topology.portBase), '--state-dir', STATE_DIR],
      ...['--postgres', topology.postgres, '--replication', topology.replication],
    ]);
    await withDb(home(), (db) =>
      db.query(`insert into users (id, name) select g, 'seed' from generate_series($1::bigint, $2::bigint) g`, [
        IDS[0],
        IDS.at(-1),
      ]),
    );
    for (const r of current())
      await eventually(`${r.region} has the seed rows`, () =>
        withDb(r, async (db) =>
          (await db.query('select count(*)::int as n from users where id = any($1)', [IDS])).rows[0].n === IDS.length
            ? true
            : undefined,
        ),
      );
  }, 180_000);

  afterAll(async () => {
    if (up) await stopFabricUp(up.child);
  });

  it('moves home to eu-west under load: zero stale, zero lost, writes resume at the new primary', async () => {
    const workload = new Workload(up.endpoints.regions, IDS, {
      writers: 2,
      readersPerRegion: 2,
      writePauseMs: 20,
      home,
    });
    workload.start();
    await sleep(4_000);
    const started = Date.now();
    const { stdout } = await run(
      process.execPath,
      [CLI, 'failover', '--to', 'eu-west', '--state-dir', STATE_DIR, '--json'],
      {
        timeout: 300_000,
      },
    );
    const failoverMs = Date.now() - started;
    const progress = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      state: string;
      report: { rebuilt: string[]; steps: Array<{ step: string; region: string; ms: number }> };
    };
    expect(progress.state).toBe('done');
    expect(progress.report.rebuilt).toEqual(topology.rebuilt);
    expect(home().region).toBe('eu-west');
    await sleep(5_000);
    await workload.stop();
    expect(workload.writesAfterMove).toBeGreaterThan(50);
    await workload.settle();

    // Quiesce: every region's database at the new primary's state, every invalidator caught up.
    const regions = current();
    const final = await withDb(
      home(),
      async (db) => (await db.query('select id, name from users where id = any($1)', [IDS])).rows,
    );
    for (const r of regions) {
      await eventually(
        `${r.region} database caught up`,
        () =>
          withDb(r, async (db) => {
            const there = new Map(
              (await db.query('select id, name from users where id = any($1)', [IDS])).rows.map((x) => [x.id, x.name]),
            );
            return final.every((x) => there.get(x.id) === x.name) ? true : undefined;
          }),
        120_000,
      );
      await eventually(
        `${r.region} invalidator caught up`,
        async () => ((await groupLag(r, `fabric-invalidator-${r.region}`, r.kafka.topic)) === 0 ? true : undefined),
        120_000,
      );
    }
    const verdicts = await Promise.all(regions.map((r) => checkRegion(r, workload.committed, IDS)));
    const lag = JSON.parse(
      (await run(process.execPath, [CLI, 'lag', '--json', '--state-dir', STATE_DIR], { timeout: 60_000 })).stdout,
    ) as { regions: Array<{ region: string; home?: boolean; continuity?: Record<string, unknown> }> };
    process.stderr.write(
      `[failover ${topology.replication}] ${workload.stats.writes} writes (${workload.writesAfterMove} at the new primary, ${workload.stats.writeErrors} failed during the move); failover took ${(failoverMs / 1000).toFixed(1)} s: ` +
        progress.report.steps.map((s) => `${s.step} ${s.region} ${s.ms} ms`).join(', ') +
        '\n' +
        verdicts
          .map((v) => `[failover] ${v.region}: ${v.cachedKeys} cached, ${v.stale.length} stale, ${v.lost.length} lost`)
          .join('\n') +
        '\n' +
        lag.regions.map((r) => `[failover] ${r.region} continuity ${JSON.stringify(r.continuity)}`).join('\n') +
        '\n',
    );
    for (const v of verdicts) {
      expect(v.stale, `${v.region} stale`).toEqual([]);
      expect(v.lost, `${v.region} lost`).toEqual([]);
    }
    expect(lag.regions.find((r) => r.home)?.region).toBe('eu-west');
    // A rebuilt old primary lost its slot and resynced; a logical one kept it. The new home's slot carried on.
    const oldHome = lag.regions.find((r) => r.region === 'us-east')?.continuity;
    expect(oldHome?.readerVerdict).toBe(topology.oldHome);
    if (topology.oldHome === 'gap') expect(oldHome).toMatchObject({ reason: 'slot-recreated' });
    expect(lag.regions.find((r) => r.region === 'eu-west')?.continuity?.reason || undefined).toBeUndefined();
    expect(lag.regions.find((r) => r.region === 'eu-west')?.continuity?.readerVerdict).toBe('continuous');
  }, 600_000);
});
