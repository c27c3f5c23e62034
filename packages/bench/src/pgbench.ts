// pgbench at the primary with a custom script: one `update users set name=… where
// id=random` per transaction.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RegionEndpoints } from '@fabric/sandbox';

const run = promisify(execFile);
const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';

export interface PgbenchSpec {
  /** ids are drawn from 1..rows */
  rows: number;
  seconds: number;
  clients: number;
}

export interface PgbenchResult {
  /** transactions (= updates) per second, without connection time; NaN if not reported */
  tps: number;
  txns: number;
  latencyMs: number;
  clients: number;
  seconds: number;
}

/** The numbers from pgbench's summary; NaN where a line is missing. Pure. */
export function parsePgbenchOutput(stdout: string): Pick<PgbenchResult, 'tps' | 'txns' | 'latencyMs'> {
  return {
    tps: Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? NaN),
    txns: Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? NaN),
    latencyMs: Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? NaN),
  };
}

export async function pgbench(home: RegionEndpoints, { rows, seconds, clients }: PgbenchSpec): Promise<PgbenchResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-pgbench-'));
  const script = path.join(dir, 'update.sql');
  writeFileSync(
    script,
    `\\set id random(1, ${rows})\nupdate users set name = 'pgb' || :id || '-' || :client_id where id = :id;\n`,
  );
  const { stdout } = await run(
    PGBENCH,
    [
      '-n',
      '-M',
      'prepared',
      '-c',
      String(clients),
      '-j',
      '2',
      '-T',
      String(seconds),
      '-f',
      script,
      '-h',
      home.postgres.host,
      '-p',
      String(home.postgres.port),
      '-U',
      'postgres',
      home.postgres.database,
    ],
    { maxBuffer: 1 << 24 },
  );
  return { ...parsePgbenchOutput(stdout), clients, seconds };
}
