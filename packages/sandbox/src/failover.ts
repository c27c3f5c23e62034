import { renameSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { lsnToBigInt, standbyApplicationName, standbySlotName } from '@fabric/contracts';
import type { Logger } from 'pino';
import type { RegionEndpoints, SandboxEndpoints } from './endpoints.js';

export { FailoverError, type FailoverReport, type FailoverStep } from './failover-report.js';

import { logicalFailover } from './failover-logical.js';
import { FailoverError, type FailoverReport, type FailoverStep } from './failover-report.js';
import { type PostgresOptions, query } from './postgres.js';
import type { DatabaseEndpoint } from './replication.js';
import { cloneStandby, ensurePhysicalSlot, waitForStandby } from './standby.js';
import type { Supervisor } from './supervisor.js';

/** What a failover needs of the running sandbox. */
export interface FailoverContext {
  endpoints: SandboxEndpoints;
  postgresOptions: ReadonlyMap<string, PostgresOptions>;
  postgres(region: string): Supervisor;
  /** Makes `region` the home region in the sandbox's configuration, records and state. */
  setHome(region: string): void;
  logger: Logger;
}

/**
 * A planned home-region failover, done as an operator does it. Logical replicas move their
 * subscriptions (failover-logical.ts). Physical standbys:
 *
 * 1. fence: the old primary shuts down cleanly (its supervisor holds it), so every
 *    standby receives its WAL up to the shutdown checkpoint and nothing acknowledged is lost;
 * 2. catch-up: every standby replays what it received;
 * 3. promote the target (a new timeline starts at the end of that WAL);
 * 4. slots: the new primary gets one physical slot per other region;
 * 5. repoint: standbys that have no WAL beyond the target's follow it on the new timeline;
 *    their local logical slots, and the continuity their readers recorded, carry on;
 * 6. rebuild: the old primary (and any standby ahead of the target, which cannot follow)
 *    is made again from a base backup of the new primary; its slot is gone, so its
 *    reader finds the gap at its next start and resyncs the region;
 * 7. home: the sandbox records the new home, so restarts keep it.
 */
export async function failover(
  ctx: FailoverContext,
  to: string,
  onStep: (step: FailoverStep) => void = () => undefined,
): Promise<FailoverReport> {
  const { endpoints, logger } = ctx;
  const started = Date.now();
  const target = endpoints.regions.find((r) => r.region === to);
  if (!target)
    throw new FailoverError(`--to ${to}: no such region (${endpoints.regions.map((r) => r.region).join(', ')})`);
  const old = endpoints.regions.find((r) => r.home)!;
  if (old.region === to) throw new FailoverError(`--to ${to}: ${to} is already the home region`);
  const standbys = endpoints.regions.filter((r) => r !== old);
  const steps: FailoverStep[] = [];
  const step = async (name: FailoverStep['step'], region: string, work: () => Promise<string>) => {
    const t = Date.now();
    const detail = await work();
    const done: FailoverStep = { step: name, region, ms: Date.now() - t, detail };
    steps.push(done);
    logger.info(done, 'failover step');
    onStep(done);
  };

  if (endpoints.replication === 'logical') {
    await logicalFailover(endpoints.regions, old, target, step, () => ctx.setHome(to));
    return { from: old.region, to, steps, rebuilt: [], totalMs: Date.now() - started };
  }
  await step('fence', old.region, async () => {
    await ctx.postgres(old.region).hold();
    return 'old primary shut down cleanly and held';
  });
  const replayed = new Map<string, string>();
  for (const r of standbys)
    await step('catch-up', r.region, async () => {
      const lsn = await replayedAll(db(r));
      replayed.set(r.region, lsn);
      return `replayed up to ${lsn}`;
    });
  await step('promote', to, async () => {
    await query(target.postgres.host, target.postgres.port, 'postgres', 'select pg_promote(true, 60)');
    const { rows } = await query(
      target.postgres.host,
      target.postgres.port,
      'postgres',
      // The checkpoint's timeline lags until the next checkpoint; the WAL file names the new one.
      `select ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int as tli`,
    );
    return `promoted (timeline ${rows[0]?.tli ?? '?'})`;
  });
  const others = endpoints.regions.filter((r) => r !== target);
  await step('slots', to, async () => {
    for (const r of others) await ensurePhysicalSlot(db(target), r.region);
    return others.map((r) => standbySlotName(r.region)).join(', ');
  });
  const targetLsn = lsnValue(replayed.get(to));
  const follow = others.filter((r) => r !== old && lsnValue(replayed.get(r.region)) <= targetLsn);
  const rebuild = others.filter((r) => !follow.includes(r));
  for (const r of follow)
    await step('repoint', r.region, async () => {
      const conninfo = `host=${target.postgres.host} port=${target.postgres.port} user=postgres application_name=${standbyApplicationName(r.region)}`;
      await query(r.postgres.host, r.postgres.port, 'postgres', `alter system set primary_conninfo = '${conninfo}'`);
      await query(r.postgres.host, r.postgres.port, 'postgres', 'select pg_reload_conf()');
      await waitForStandby(db(r), db(target), logger);
      return `follows ${to} on its new timeline`;
    });
  for (const r of rebuild)
    await step('rebuild', r.region, async () => {
      const supervisor = ctx.postgres(r.region);
      if (r !== old) await supervisor.hold();
      const options = ctx.postgresOptions.get(r.region)!;
      // Kept beside, not deleted: an operator may want what the old primary held.
      const aside = `${options.dataDir}.before-failover`;
      rmSync(aside, { recursive: true, force: true });
      renameSync(options.dataDir, aside);
      await cloneStandby({
        region: r.region,
        primary: db(target),
        upstream: { host: target.postgres.host, port: target.postgres.port },
        primaryDataDir: ctx.postgresOptions.get(to)!.dataDir,
        dataDir: options.dataDir,
        runAs: options.runAs,
      });
      await supervisor.release();
      await waitForStandby(db(r), db(target), logger);
      return `made again from a base backup of ${to} (the old data directory is in ${aside})`;
    });
  await step('home', to, async () => {
    ctx.setHome(to);
    return `${to} is the home region`;
  });
  return { from: old.region, to, steps, rebuilt: rebuild.map((r) => r.region), totalMs: Date.now() - started };
}

/**
 * Once the primary is gone, a standby's receiver stops; wait until it replayed all it
 * received (two equal readings in a row), and return that position.
 */
async function replayedAll(standby: DatabaseEndpoint, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let previous = '';
  while (Date.now() < deadline) {
    const { rows } = await query(
      standby.host,
      standby.port,
      'postgres',
      `select pg_last_wal_replay_lsn()::text as replayed,
              coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true) as caught_up`,
    );
    const row = rows[0] as { replayed: string; caught_up: boolean };
    if (row.caught_up && row.replayed === previous) return row.replayed;
    previous = row.caught_up ? row.replayed : '';
    await sleep(300);
  }
  throw new FailoverError(`${standby.region}: did not finish replaying what it received within ${timeoutMs / 1000} s`);
}

function lsnValue(lsn: string | undefined): bigint {
  return lsn ? lsnToBigInt(lsn) : 0n;
}

function db(r: RegionEndpoints): DatabaseEndpoint {
  return { region: r.region, host: r.postgres.host, port: r.postgres.port };
}
