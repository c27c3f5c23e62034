import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { SandboxEndpoints } from '@fabric/sandbox';

const CLI = path.resolve('packages/cli/dist/bin.js');

/** What `fabric up --json` prints once ready. */
export interface FabricUpReady {
  child: ChildProcess;
  endpoints: SandboxEndpoints;
  readyMs: number;
  tokensFile: string | undefined;
}

/**
 * Starts the real `fabric up` (or `npm start`, as the README runs it: npm -> sh -> node)
 * and resolves with what it prints when ready; rejects with the tail of its stderr if it
 * exits first. `args` follow `up`; `--json` is added.
 */
export function startFabricUp(args: string[], opts: { via?: 'node' | 'npm' } = {}): Promise<FabricUpReady> {
  const [command, argv] =
    opts.via === 'npm'
      ? ['npm', ['start', '--', '--json', ...args]]
      : [process.execPath, [CLI, 'up', '--json', ...args]];
  const child = spawn(command, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FABRIC_LOG_LEVEL: 'warn' },
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const ready = JSON.parse(line) as Omit<FabricUpReady, 'child'>;
      resolve({ child, ...ready });
    });
    child.once('exit', (code) => reject(new Error(`fabric up exited with ${code} before ready: ${err.slice(-2000)}`)));
  });
}

/** SIGTERM, then the exit code once it is gone. */
export async function stopFabricUp(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}
