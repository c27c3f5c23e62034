// Baseline 1, the source limit: the highest update rate the primary itself commits,
// measured with pgbench (custom script updating public.users), then how fast the home
// reader catches up on that burst when started after it (decode throughput).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { query } from '../lib/seed.mjs';
import { readerHealth } from '../lib/fabric-state.mjs';
import { waitFor } from '../lib/wait.mjs';

const run = promisify(execFile);
const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';

function lsnToBig(lsn) {
  const [a, b] = lsn.split('/');
  return (BigInt(`0x${a}`) << 32n) + BigInt(`0x${b}`);
}

export async function pgbench(home, { rows, seconds, clients }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-pgbench-'));
  const script = path.join(dir, 'update.sql');
  writeFileSync(script, `\\set id random(1, ${rows})\nupdate users set name = 'pgb' || :id || '-' || :client_id where id = :id;\n`);
  const { stdout } = await run(PGBENCH, ['-n', '-M', 'prepared', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', script,
    '-h', home.postgres.host, '-p', String(home.postgres.port), '-U', 'postgres', home.postgres.database], { maxBuffer: 1 << 24 });
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? NaN);
  const txns = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? NaN);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? NaN);
  return { tps, txns, latencyMs, clients, seconds };
}

export async function sourceLimit(ctx) {
  const { home, fabric, progress, opts } = ctx;
  const seconds = Math.min(15, opts.stepSeconds);
  // Live: pgbench at full speed with the fabric running.
  progress(`source limit: pgbench, 16 clients, ${seconds} s (fabric running)`);
  const live = await pgbench(home, { rows: opts.rows, seconds, clients: 16 });
  const endLsn = (await query(home.postgres.url, 'select pg_current_wal_lsn()::text as l')).rows[0].l;
  const liveDrainMs = await waitFor(async () => {
    const h = await readerHealth(home);
    return h?.confirmedLsn && lsnToBig(h.confirmedLsn) >= lsnToBig(endLsn);
  }, 120_000, 100);
  progress(`source limit: primary ${live.tps.toFixed(0)} updates/s; home reader confirmed the burst's end LSN ${liveDrainMs === null ? 'not within 120 s' : `${(liveDrainMs / 1000).toFixed(1)} s after pgbench ended`}`);

  // Catch-up: the home reader held while pgbench runs, then released: decode throughput.
  progress('source limit: home cdc-reader held, pgbench burst, then reader released (catch-up throughput)');
  await fabric.service('stop', home.region, 'cdc-reader');
  const burst = await pgbench(home, { rows: opts.rows, seconds, clients: 16 });
  const burstEnd = (await query(home.postgres.url, 'select pg_current_wal_lsn()::text as l')).rows[0].l;
  await fabric.service('start', home.region, 'cdc-reader');
  // Time from the reader answering /healthz until it confirmed the burst's end.
  await waitFor(async () => (await readerHealth(home)) !== null, 60_000, 50);
  const catchUpMs = await waitFor(async () => {
    const h = await readerHealth(home);
    return h?.confirmedLsn && lsnToBig(h.confirmedLsn) >= lsnToBig(burstEnd);
  }, 300_000, 50);
  const readerCatchUpRate = catchUpMs ? burst.txns / (catchUpMs / 1000) : null;
  progress(`source limit: reader caught up ${burst.txns} changes in ${catchUpMs === null ? 'n/a' : (catchUpMs / 1000).toFixed(1)} s = ${readerCatchUpRate?.toFixed(0) ?? 'n/a'} changes/s`);
  return { live, liveDrainMs, burst, catchUpMs, readerCatchUpRate };
}
