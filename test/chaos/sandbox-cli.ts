import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SandboxEndpoints } from '@fabric/sandbox';

const CLI = path.resolve('packages/cli/dist/bin.js');
const CHAOS = path.resolve('deploy/chaos');
const run = promisify(execFile);

export interface RunningSandbox {
  child: ChildProcess;
  endpoints: SandboxEndpoints;
  stop(): Promise<number | null>;
  /** Runs one of deploy/chaos/*.sh against this sandbox, as an operator would. */
  chaos(script: 'partition' | 'signal' | 'service', ...args: string[]): Promise<string>;
}

/** `fabric up --netns` with its own ports and state, as the main job runs it. */
export function startSandbox(stateDir: string, portBase: number): Promise<RunningSandbox> {
  const child = spawn(
    process.execPath,
    [CLI, 'up', '--netns', '--json', '--port-base', String(portBase), '--state-dir', stateDir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FABRIC_LOG_LEVEL: 'warn' },
    },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const { endpoints } = JSON.parse(line) as { endpoints: SandboxEndpoints };
      resolve({
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
      });
    });
    void exited.then((code) => reject(new Error(`fabric up exited with ${code} before ready: ${err.slice(-2000)}`)));
  });
}
