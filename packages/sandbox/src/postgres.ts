import { execFile } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from 'pino';
import { ServiceStartError } from './errors.js';
import type { RunAs } from './run-as.js';
import { ownedDir } from './run-as.js';
import { ServiceProcess } from './service-process.js';
import { waitUntilReady } from './wait.js';

const run = promisify(execFile);

export interface PostgresOptions {
  region: string;
  host: string;
  port: number;
  /** Data directory (created and initialised on first start). */
  dataDir: string;
  logFile: string;
  pgBin: string;
  setpriv: string;
  /** netns mode: run inside the region's network namespace. */
  netns?: string;
  runAs: RunAs | undefined;
  logger: Logger;
  /**
   * TLS only: ssl=on with this certificate, and pg_hba accepting TCP connections over TLS
   * alone (hostssl), so a client that does not ask for TLS is turned away.
   */
  tls?: { certFile: string; keyFile: string };
}

/**
 * Settings every region needs: logical WAL so the region's own CDC reader can decode
 * (on logical replicas too, where it decodes what the subscription applied), room for slots and
 * workers, and a cap on WAL a stalled slot may hold so a dead reader cannot fill the disk.
 */
const SETTINGS: Record<string, string> = {
  wal_level: 'logical',
  max_wal_senders: '16',
  max_replication_slots: '16',
  max_worker_processes: '16',
  max_logical_replication_workers: '8',
  max_slot_wal_keep_size: '2GB',
  wal_sender_timeout: '30s',
  shared_buffers: '64MB',
  unix_socket_directories: '',
  log_min_messages: 'warning',
  log_line_prefix: '%m [%p] ',
};

export async function startPostgres(opts: PostgresOptions): Promise<ServiceProcess> {
  const name = `${opts.region} postgres`;
  if (!existsSync(path.join(opts.dataDir, 'PG_VERSION'))) await initialise(opts, name);
  const settings = { ...SETTINGS, port: String(opts.port), listen_addresses: opts.host, ...tlsSettings(opts) };
  const args = ['-D', opts.dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  // SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, checkpoint, exit.
  const proc = ServiceProcess.start(
    {
      name,
      command: path.join(opts.pgBin, 'postgres'),
      args,
      logFile: opts.logFile,
      runAs: opts.runAs,
      stopSignal: 'SIGINT',
      setpriv: opts.setpriv,
      netns: opts.netns,
    },
    opts.logger,
  );
  await waitUntilReady(proc, () => query(opts.host, opts.port, 'postgres', 'select 1', Boolean(opts.tls)), 60_000);
  return proc;
}

async function initialise(opts: PostgresOptions, name: string): Promise<void> {
  ownedDir(opts.dataDir, opts.runAs);
  const owner = opts.runAs ? [`--reuid=${opts.runAs.uid}`, `--regid=${opts.runAs.gid}`, '--init-groups'] : [];
  try {
    await run(opts.setpriv, [
      ...owner,
      '--',
      path.join(opts.pgBin, 'initdb'),
      '-D',
      opts.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
    ]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new ServiceStartError(name, `initdb failed: ${stderr.trim()}`);
  }
  // Sandbox only: every local connection is trusted, including replication from the
  // other regions' subscriptions.
  writeFileSync(
    path.join(opts.dataDir, 'pg_hba.conf'),
    opts.tls
      ? ['local all all trust', 'hostssl all all 0.0.0.0/0 trust', 'hostssl replication all 0.0.0.0/0 trust', ''].join(
          '\n',
        )
      : ['local all all trust', 'host all all 0.0.0.0/0 trust', 'host replication all 0.0.0.0/0 trust', ''].join('\n'),
  );
}

/** PostgreSQL reads the key only if the server's user alone may: a copy in the data directory. */
function tlsSettings(opts: PostgresOptions): Record<string, string> {
  if (!opts.tls) return {};
  const cert = path.join(opts.dataDir, 'server.crt');
  const key = path.join(opts.dataDir, 'server.key');
  copyFileSync(opts.tls.certFile, cert);
  copyFileSync(opts.tls.keyFile, key);
  chmodSync(key, 0o600);
  for (const f of [cert, key]) if (opts.runAs) chownSync(f, opts.runAs.uid, opts.runAs.gid);
  return { ssl: 'on', ssl_cert_file: cert, ssl_key_file: key };
}

/**
 * One-shot query on a fresh connection; used for readiness and set-up only. `tls`: over
 * TLS without verifying (the sandbox checks that its own server answers, not who it is).
 */
export async function query(
  host: string,
  port: number,
  database: string,
  sql: string,
  tls = false,
): Promise<pg.QueryResult> {
  const client = new pg.Client({
    host,
    port,
    database,
    user: 'postgres',
    connectionTimeoutMillis: 2_000,
    ...(tls ? { ssl: { rejectUnauthorized: false } } : {}),
  });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}
