import {
  chownSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  type Stats,
  symlinkSync,
} from 'node:fs';
import path from 'node:path';

/**
 * What a base backup leaves out of a running server's data directory, as pg_basebackup
 * does: files of the running instance, WAL (the standby streams it from its slot), the
 * primary's replication slots, and runtime scratch that recovery rebuilds.
 */
const SKIP_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'pg_internal.init', 'backup_label.old']);
const EMPTY_DIRS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);

export interface CopyOwner {
  uid: number;
  gid: number;
}

/**
 * Copies a data directory that may be in use. Files that vanish while walking (temporary
 * files, dropped relations) are skipped: the WAL replayed from the backup's start point
 * recreates whatever the copy missed, which is what makes an online copy consistent.
 */
export function copyDataDir(from: string, to: string, owner?: CopyOwner): void {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  own(to, owner);
  copyEntries(from, to, { owner, top: true });
  mkdirSync(path.join(to, 'pg_wal', 'archive_status'), { recursive: true, mode: 0o700 });
  own(path.join(to, 'pg_wal'), owner);
  own(path.join(to, 'pg_wal', 'archive_status'), owner);
}

function copyEntries(from: string, to: string, opts: { owner: CopyOwner | undefined; top: boolean }): void {
  for (const name of listOrEmpty(from)) {
    if (SKIP_FILES.has(name) || name.startsWith('pgsql_tmp')) continue;
    const source = path.join(from, name);
    const target = path.join(to, name);
    const stat = statOrUndefined(source);
    if (!stat) continue;
    if (stat.isDirectory()) {
      mkdirSync(target, { recursive: true, mode: stat.mode & 0o777 });
      own(target, opts.owner);
      if (!(opts.top && EMPTY_DIRS.has(name))) copyEntries(source, target, { owner: opts.owner, top: false });
    } else if (stat.isSymbolicLink()) {
      symlinkSync(readlinkSync(source), target);
    } else if (stat.isFile()) {
      try {
        copyFileSync(source, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      own(target, opts.owner);
    }
  }
}

function listOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function own(file: string, owner: CopyOwner | undefined): void {
  if (owner) chownSync(file, owner.uid, owner.gid);
}
