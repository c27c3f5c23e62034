import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SandboxLockedError } from './errors.js';
import { isAlive } from './pid.js';

interface LockContent {
  pid: number;
  startedAt: string;
}

/**
 * One sandbox per state directory. The lock holds the owner's pid; a lock whose owner
 * is gone (kill -9, power loss) is stale and taken over, because the kernel already
 * stopped that owner's children (see ServiceProcess).
 */
export class SandboxLock {
  private constructor(private readonly file: string) {}

  static acquire(stateDir: string): SandboxLock {
    const file = path.join(stateDir, 'sandbox.lock');
    const content: LockContent = { pid: process.pid, startedAt: new Date().toISOString() };
    try {
      writeFileSync(file, JSON.stringify(content), { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(file);
      if (holder && holder !== process.pid && isAlive(holder)) throw new SandboxLockedError(holder, stateDir);
      writeFileSync(file, JSON.stringify(content));
    }
    return new SandboxLock(file);
  }

  release(): void {
    if (readHolder(this.file) === process.pid) rmSync(this.file, { force: true });
  }
}

function readHolder(file: string): number | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockContent>;
    return typeof parsed.pid === 'number' ? parsed.pid : undefined;
  } catch {
    return undefined;
  }
}
