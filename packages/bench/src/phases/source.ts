// Baseline 1, the source limit: the highest update rate the primary itself commits,
// measured with pgbench (custom script updating public.users), then how fast the home
// reader catches up on that burst when started after it (decode throughput).
import { lsnReached } from '@fabric/contracts';
import type { RegionEndpoints } from '@fabric/sandbox';
import type { BenchContext } from '../context.js';
import { readerHealth } from '../fabric-state.js';
import { type PgbenchResult, pgbench } from '../pgbench.js';
import { query } from '../query.js';
import { waitFor } from '../wait.js';

export interface SourceLimitResult {
  /** pgbench with the fabric running */
  live: PgbenchResult;
  /** pgbench end → home reader confirmed its last LSN; null if not within 120 s */
  liveDrainMs: number | null;
  /** pgbench while the home reader was held */
  burst: PgbenchResult;
  /** reader answering /healthz → confirmed the burst's end; null if not within 300 s */
  catchUpMs: number | null;
  /** burst changes / catch-up time, changes/s */
  readerCatchUpRate: number | null;
}

const currentLsn = async (home: RegionEndpoints): Promise<string> =>
  (await query<{ l: string }>(home.postgres.url, 'select pg_current_wal_lsn()::text as l')).rows[0]?.l ?? '0/0';

const readerConfirmed = async (home: RegionEndpoints, lsn: string): Promise<boolean> =>
  lsnReached((await readerHealth(home))?.confirmedLsn, lsn);

export async function sourceLimit(ctx: BenchContext): Promise<SourceLimitResult> {
  const { home, fabric, progress, opts } = ctx;
  const seconds = Math.min(15, opts.stepSeconds);
  // Live: pgbench at full speed with the fabric running.
  progress(`source limit: pgbench, 16 clients, ${seconds} s (fabric running)`);
  const live = await pgbench(home, { rows: opts.rows, seconds, clients: 16 });
  const endLsn = await currentLsn(home);
  const liveDrainMs = await waitFor(() => readerConfirmed(home, endLsn), 120_000, 100);
  progress(
    `source limit: primary ${live.tps.toFixed(0)} updates/s; home reader confirmed the burst's end LSN ${liveDrainMs === null ? 'not within 120 s' : `${(liveDrainMs / 1000).toFixed(1)} s after pgbench ended`}`,
  );

  // Catch-up: the home reader held while pgbench runs, then released: decode throughput.
  progress('source limit: home cdc-reader held, pgbench burst, then reader released (catch-up throughput)');
  await fabric.service('stop', home.region, 'cdc-reader');
  const burst = await pgbench(home, { rows: opts.rows, seconds, clients: 16 });
  const burstEnd = await currentLsn(home);
  await fabric.service('start', home.region, 'cdc-reader');
  // Time from the reader answering /healthz until it confirmed the burst's end.
  await waitFor(async () => (await readerHealth(home)) !== null, 60_000, 50);
  const catchUpMs = await waitFor(() => readerConfirmed(home, burstEnd), 300_000, 50);
  const readerCatchUpRate = catchUpMs ? burst.txns / (catchUpMs / 1000) : null;
  progress(
    `source limit: reader caught up ${burst.txns} changes in ${catchUpMs === null ? 'n/a' : (catchUpMs / 1000).toFixed(1)} s = ${readerCatchUpRate?.toFixed(0) ?? 'n/a'} changes/s`,
  );
  return { live, liveDrainMs, burst, catchUpMs, readerCatchUpRate };
}
