import { appendFileSync, chownSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { standbyApplicationName, standbySlotName } from '@fabric/contracts';
import pg from 'pg';
import type { Logger } from 'pino';
import { copyDataDir } from './data-dir-copy.js';
import { DATABASE } from './demo-schema.js';
import { ServiceStartError } from './errors.js';
import { query } from './postgres.js';
import type { DatabaseEndpoint } from './replication.js';
import type { RunAs } from './run-as.js';

// The primary keeps one physical slot per standby region: WAL a standby has not received
// stays on the primary while the region is away (bounded by max_slot_wal_keep_size), and
// hot_standby_feedback reaches the primary through it, so vacuum there cannot remove rows
// the standby's logical slot still has to decode.

/** True when the data directory belongs to a standby (PostgreSQL's own marker). */
export function isStandbyDataDir(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'standby.signal'));
}

export async function ensurePhysicalSlot(primary: DatabaseEndpoint, region: string): Promise<void> {
  const slot = standbySlotName(region);
  // Reserved at once, so WAL from this moment on (the backup that follows) is kept.
  await query(
    primary.host,
    primary.port,
    'postgres',
    `select pg_create_physical_replication_slot('${slot}', true)
     where not exists (select 1 from pg_replication_slots where slot_name = '${slot}')`,
  );
}

export interface StandbyCloneOptions {
  region: string;
  /** Where the sandbox reaches the primary. */
  primary: DatabaseEndpoint;
  /** Where the standby reaches the primary (its own network namespace's view). */
  upstream: { host: string; port: number };
  primaryDataDir: string;
  dataDir: string;
  runAs: RunAs | undefined;
}

/**
 * Makes a standby from an online base backup of the running primary, the way
 * pg_basebackup does it but with SQL and a file copy (the server builds for 16+ ship no
 * client programs): pg_backup_start, copy, pg_backup_stop in the same session, then
 * backup_label, standby.signal and the connection to the primary. The copy is made beside
 * the target and renamed into place, so a crash part-way never leaves a directory that
 * looks initialised.
 */
export async function cloneStandby(opts: StandbyCloneOptions): Promise<void> {
  const partial = `${opts.dataDir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const client = new pg.Client({
    host: opts.primary.host,
    port: opts.primary.port,
    database: 'postgres',
    user: 'postgres',
  });
  await client.connect();
  try {
    await client.query('select pg_backup_start($1, true)', [`fabric standby ${opts.region}`]);
    let stopped = false;
    try {
      copyDataDir(opts.primaryDataDir, partial, opts.runAs);
      const { rows } = await client.query('select labelfile, spcmapfile from pg_backup_stop(false)');
      stopped = true;
      const { labelfile, spcmapfile } = rows[0] as { labelfile: string; spcmapfile: string | null };
      writeOwned(path.join(partial, 'backup_label'), labelfile, opts.runAs);
      if (spcmapfile) writeOwned(path.join(partial, 'tablespace_map'), spcmapfile, opts.runAs);
    } finally {
      if (!stopped) await client.query('select pg_backup_stop(false)').catch(() => undefined);
    }
  } finally {
    await client.end();
  }
  configureStandby(partial, opts);
  renameSync(partial, opts.dataDir);
}

function writeOwned(file: string, content: string, owner: RunAs | undefined): void {
  writeFileSync(file, content);
  if (owner) chownSync(file, owner.uid, owner.gid);
}

/**
 * What pg_basebackup --write-recovery-conf writes. In postgresql.auto.conf rather than on
 * the command line, so a later promotion or repointing changes a file, not how the sandbox
 * starts the server.
 */
function configureStandby(dataDir: string, opts: StandbyCloneOptions): void {
  const files = [path.join(dataDir, 'standby.signal'), path.join(dataDir, 'postgresql.auto.conf')];
  writeFileSync(files[0]!, '');
  const conninfo = `host=${opts.upstream.host} port=${opts.upstream.port} user=postgres application_name=${standbyApplicationName(opts.region)}`;
  appendFileSync(
    files[1]!,
    [
      '# written by the fabric sandbox when it made this standby',
      `primary_conninfo = '${conninfo}'`,
      `primary_slot_name = '${standbySlotName(opts.region)}'`,
      // The primary's vacuum must keep the rows this standby's logical slot has yet to
      // decode, or recovery conflicts with the slot and invalidates it.
      'hot_standby_feedback = on',
      '',
    ].join('\n'),
  );
  if (opts.runAs) for (const f of files) chownSync(f, opts.runAs.uid, opts.runAs.gid);
}

/**
 * Waits until the standby streams from the primary and has replayed everything the primary
 * had written when the wait began: from then on the standby has the schema, and a slot
 * created on it can be decoded.
 */
export async function waitForStandby(
  standby: DatabaseEndpoint,
  primary: DatabaseEndpoint,
  logger: Logger,
  timeoutMs = 120_000,
): Promise<void> {
  const target = (await query(primary.host, primary.port, 'postgres', 'select pg_current_wal_lsn()::text as lsn'))
    .rows[0] as { lsn: string };
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const { rows } = await query(
        standby.host,
        standby.port,
        DATABASE,
        `select (select status from pg_stat_wal_receiver) as status,
                pg_last_wal_replay_lsn() >= '${target.lsn}'::pg_lsn as caught_up`,
      );
      const row = rows[0] as { status: string | null; caught_up: boolean | null };
      if (row.status === 'streaming' && row.caught_up) return;
      last = `receiver ${row.status ?? 'not running'}, replayed up to the primary's ${target.lsn}: ${row.caught_up ?? false}`;
    } catch (err) {
      last = (err as Error).message;
    }
    logger.debug({ region: standby.region, last }, 'waiting for the standby');
    await sleep(200);
  }
  throw new ServiceStartError(
    `${standby.region} standby`,
    `not streaming from the primary after ${timeoutMs} ms (${last})`,
  );
}
