import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findPgBin, isPortFree } from '@fabric/sandbox';
import pg from 'pg';

// Throwaway PostgreSQL clusters for the deploy scripts' tests, in a directory of the test's
// own, so the scripts can do what they do in a real deployment (create slots and
// subscriptions, copy a data directory) without touching the sandbox's clusters.
// Debian's PostgreSQL 15, because its pg_basebackup refuses servers of a newer major.

export const PG_BIN = findPgBin(process.env);

const root = process.getuid?.() === 0;
const postgresId = (flag: '-u' | '-g') => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());

/** PostgreSQL refuses to run as root: a root test runs it as the postgres user, as the image does. */
export const AS_POSTGRES = root ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'] : [];

/** A directory the server's user owns. */
export function ownedDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (root) chownSync(dir, postgresId('-u'), postgresId('-g'));
  return dir;
}

/**
 * A port nothing listens on, below the kernel's ephemeral range (32768 up) so no client
 * connection takes it meanwhile; from a random start, so concurrent runs rarely meet.
 */
export async function freePort(from = 30_500, count = 1_000): Promise<number> {
  const start = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i++) {
    const port = from + ((start + i) % count);
    if (await isPortFree(port, '127.0.0.1')) return port;
  }
  throw new Error(`no free port in ${from}-${from + count - 1}`);
}

/** postgres's own arguments: where it listens, its socket, and `-c` settings. */
export function serverArgs(port: number, socketDir: string, settings: Record<string, string> = {}): string[] {
  const all = { listen_addresses: '127.0.0.1', unix_socket_directories: socketDir, ...settings };
  return ['-p', String(port), ...Object.entries(all).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

/** One of the server programs, as the server's user. */
function runPg(program: string, args: string[]): string {
  const [command, ...rest] = [...AS_POSTGRES, path.join(PG_BIN, program), ...args];
  return execFileSync(command!, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface ScratchPostgres {
  port: number;
  dataDir: string;
  query<T = Record<string, unknown>>(database: string, text: string): Promise<T[]>;
  stop(): void;
}

export interface ScratchOptions {
  /** Owned by the server's user (`ownedDir`); the cluster and its socket go inside. */
  dir: string;
  name: string;
  settings?: Record<string, string>;
  /** The superuser's password; without one every connection is trusted. */
  password?: string;
  /** pg_hba.conf as a whole, instead of initdb's. */
  hba?: string;
  /** Where to look for a free port (a test's own range); default freePort's. */
  portRange?: { from: number; count: number };
}

export async function startScratchPostgres(opts: ScratchOptions): Promise<ScratchPostgres> {
  const dataDir = path.join(opts.dir, opts.name);
  const auth = ['-U', 'postgres', '--auth=trust'];
  if (opts.password) {
    const pwfile = path.join(opts.dir, `${opts.name}.pw`);
    writeFileSync(pwfile, `${opts.password}\n`);
    if (root) chownSync(pwfile, postgresId('-u'), postgresId('-g'));
    auth.push(`--pwfile=${pwfile}`);
  }
  runPg('initdb', ['-D', dataDir, ...auth]);
  if (opts.hba !== undefined) {
    writeFileSync(path.join(dataDir, 'pg_hba.conf'), opts.hba);
    if (root) chownSync(path.join(dataDir, 'pg_hba.conf'), postgresId('-u'), postgresId('-g'));
  }
  const port = await freePort(opts.portRange?.from, opts.portRange?.count);
  const options = serverArgs(port, opts.dir, opts.settings).join(' ');
  runPg('pg_ctl', ['-D', dataDir, '-l', path.join(opts.dir, `${opts.name}.log`), '-o', options, '-w', 'start']);
  return {
    port,
    dataDir,
    async query<T>(database: string, text: string) {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: opts.password, database });
      await client.connect();
      try {
        return (await client.query(text)).rows as T[];
      } finally {
        await client.end();
      }
    },
    stop() {
      runPg('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    },
  };
}

/** A server started by someone else's command (a script that ends in `exec postgres`). */
export interface ForegroundServer {
  child: ChildProcess;
  stderr: () => string;
  /** Fast shutdown (SIGINT), resolved with the exit code once it is down. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function runForeground(command: string, args: string[], env: NodeJS.ProcessEnv): ForegroundServer {
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    exited,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}
