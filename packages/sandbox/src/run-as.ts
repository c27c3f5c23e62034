import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { MissingBinaryError } from './errors.js';

export interface RunAs {
  uid: number;
  gid: number;
  user: string;
}

/**
 * PostgreSQL refuses to run as root, so a root sandbox runs it as the `postgres` user
 * that the Debian package creates. Anyone else runs it as themselves.
 */
export function postgresUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid, user: 'postgres' };
  } catch {
    throw new MissingBinaryError(
      'the postgres system user',
      'PostgreSQL cannot run as root. Install postgresql-15 (it creates the user) or run the sandbox as a non-root user.',
    );
  }
}

/** Creates `dir` owned by `owner`, so that the service user can write into it. */
export function ownedDir(dir: string, owner: RunAs | undefined): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

/**
 * True when `owner` can reach `dir`: a checkout under /root is not traversable by the
 * postgres user, and initdb would fail there with a confusing permission error.
 */
export function reachableBy(dir: string, owner: RunAs | undefined): boolean {
  if (!owner) return true;
  try {
    execFileSync(
      'setpriv',
      [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--init-groups', '--', 'test', '-x', dir],
      {
        stdio: 'ignore',
      },
    );
    return true;
  } catch {
    return false;
  }
}
