// A fabric worker (reader or invalidator main.js) the bench runs apart from the sandbox:
// its own node process, logging at warn, optionally under `node --cpu-prof`.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Worker {
  child: ChildProcess;
  /** resolves once the process has exited */
  exited: Promise<unknown>;
}

export interface StartOptions {
  /** `node --cpu-prof` into this directory: V8 writes its .cpuprofile there on a clean exit. */
  cpuProfDir?: string;
  /** stdout and stderr go here (appended); otherwise nowhere. */
  logFile?: string;
}

export function startWorker(script: string, args: readonly string[], opts: StartOptions = {}): Worker {
  const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const prof = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  const child = spawn(process.execPath, [...prof, script, ...args], {
    stdio: ['ignore', out, out],
    env: { ...process.env, FABRIC_LOG_LEVEL: 'warn' },
  });
  if (typeof out === 'number') closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, exited };
}

/** SIGTERM to each, then up to 15 s for all of them to exit (a profile is written on the way out). */
export async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.race([Promise.all(workers.map((w) => w.exited)), sleep(15_000)]);
}
