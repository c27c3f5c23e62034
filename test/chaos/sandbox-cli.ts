import { type ChildProcess, execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SandboxEndpoints } from '@fabric/sandbox';
import { startFabricUp } from '../fabric-up.js';

const CHAOS = path.resolve('deploy/chaos');
const run = promisify(execFile);

export interface RunningSandbox {
  child: ChildProcess;
  endpoints: SandboxEndpoints;
  stop(): Promise<number | null>;
  /** Runs one of deploy/chaos/*.sh against this sandbox, as an operator would. */
  chaos(script: 'partition' | 'signal' | 'service' | 'slot' | 'failover', ...args: string[]): Promise<string>;
}

/** `fabric up --netns` with its own ports and state, as the main job runs it. */
export async function startSandbox(stateDir: string, portBase: number): Promise<RunningSandbox> {
  const { child, endpoints } = await startFabricUp([
    '--netns',
    '--port-base',
    String(portBase),
    '--state-dir',
    stateDir,
  ]);
  const exited = new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );
  return {
    child,
    endpoints,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    async chaos(script, ...args) {
      const { stdout } = await run(path.join(CHAOS, `${script}.sh`), [...args, '--state-dir', stateDir]);
      return stdout.trim();
    },
  };
}
