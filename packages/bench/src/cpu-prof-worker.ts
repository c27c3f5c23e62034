// A node script run under `node --cpu-prof`: V8 writes its .cpuprofile into dir on a clean exit.
import { type ChildProcess, spawn } from 'node:child_process';

export interface ProfiledWorker {
  child: ChildProcess;
  /** resolves once the process has exited */
  exited: Promise<unknown>;
}

export function startProfiledWorker(script: string, args: readonly string[], dir: string): ProfiledWorker {
  const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, script, ...args], {
    stdio: 'ignore',
    env: { ...process.env, FABRIC_LOG_LEVEL: 'warn' },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, exited };
}
