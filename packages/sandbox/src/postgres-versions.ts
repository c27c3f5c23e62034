import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MissingBinaryError, SETUP_HINT } from './errors.js';
import type { RunAs } from './run-as.js';
import { reachableBy } from './run-as.js';

/** The PostgreSQL majors the fabric supports; physical standbys need 16 or newer. */
export const POSTGRES_VERSIONS = [15, 16, 17, 18] as const;
export type PostgresVersion = (typeof POSTGRES_VERSIONS)[number];
export const DEFAULT_POSTGRES_VERSION: PostgresVersion = 17;

/** Logical decoding on a physical standby arrived in PostgreSQL 16. */
export const FIRST_STANDBY_DECODING_VERSION = 16;

/**
 * The bin directory of a server build from the npm registry: Debian bookworm ships
 * PostgreSQL 15 only, so 16–18 are pinned in packages/sandbox/package.json as
 * pg-server-<major> (initdb, pg_ctl, postgres, the server libraries and contrib; no
 * client programs). FABRIC_PG<major>_BIN points at a build of one's own instead.
 */
export function embeddedPgBin(
  version: Exclude<PostgresVersion, 15>,
  env: NodeJS.ProcessEnv,
  resolveFrom = import.meta.url,
): string {
  const override = env[`FABRIC_PG${version}_BIN`];
  if (override) return checkedBin(override, version, `FABRIC_PG${version}_BIN`);
  const root = packageRoot(version, resolveFrom);
  hydrateSymlinks(path.join(root, 'native'));
  return checkedBin(path.join(root, 'native', 'bin'), version, `pg-server-${version}`);
}

function packageRoot(version: PostgresVersion, from: string): string {
  try {
    // The package exports only dist/index.js, not its package.json; the root is one up from dist.
    return path.dirname(path.dirname(createRequire(from).resolve(`pg-server-${version}`)));
  } catch {
    throw new MissingBinaryError(
      `PostgreSQL ${version} (npm package pg-server-${version})`,
      `It is an optional dependency of @fabric/sandbox for linux-x64; run npm ci on such a machine, or set FABRIC_PG${version}_BIN to the bin directory of your own build. ${SETUP_HINT}`,
    );
  }
}

function checkedBin(dir: string, version: PostgresVersion, source: string): string {
  if (!hasServer(dir)) {
    throw new MissingBinaryError(
      `PostgreSQL ${version} (initdb, postgres)`,
      `${source} points at ${dir}, which has no initdb and postgres. ${SETUP_HINT}`,
    );
  }
  return dir;
}

function hasServer(dir: string): boolean {
  return existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres'));
}

/**
 * npm tarballs cannot hold symlinks, so the server package lists its library links in
 * pg-symlinks.json and a postinstall script makes them. An install that skipped scripts
 * (`--ignore-scripts`, a policy that holds them back) leaves a server that cannot load
 * libpq or ICU; making the missing links here turns that into a working install.
 */
export function hydrateSymlinks(nativeDir: string): number {
  const list = path.join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(list)) return 0;
  const links = JSON.parse(readFileSync(list, 'utf8')) as Array<{ source: string; target: string }>;
  let made = 0;
  for (const { source, target } of links) {
    // Paths are relative to the package root: `target` is the link to make, `source` the file.
    const link = path.resolve(nativeDir, '..', target);
    if (exists(link)) continue;
    symlinkSync(path.relative(path.dirname(link), path.resolve(nativeDir, '..', source)), link);
    made++;
  }
  return made;
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * PostgreSQL runs as the `postgres` user when the sandbox runs as root, and that user
 * cannot enter a checkout under /root. Then the server build is copied once to /var/tmp,
 * where it can; the copy is reused while the build's version stamp matches.
 */
export function reachablePgBin(bin: string, runAs: RunAs | undefined): string {
  if (reachableBy(bin, runAs)) return bin;
  const root = path.dirname(bin);
  // Named after the build's path, as the data directory's fallback is after the state dir's.
  const stamp = `${root}:${statSync(path.join(root, 'share', 'postgresql', 'postgres.bki')).size}`;
  const copy = path.join('/var/tmp', `fabric-pg-${createHash('sha1').update(root).digest('hex').slice(0, 10)}`);
  const stampFile = path.join(copy, '.fabric-stamp');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    mkdirSync(copy, { recursive: true, mode: 0o755 });
    cpSync(root, copy, { recursive: true, verbatimSymlinks: true });
    writeFileSync(stampFile, stamp);
  }
  return path.join(copy, 'bin');
}
