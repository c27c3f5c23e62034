// Starts the fabric with the real CLI (`fabric up --json`) and stops it; or attaches to
// one already running on a state dir.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SandboxEndpoints, SandboxState } from '@fabric/sandbox';
import type { ComponentKind } from './components.js';
import { repoPath } from './repo-root.js';

const CLI = repoPath('packages/cli/dist/bin.js');
const SERVICE_SH = repoPath('deploy/chaos/service.sh');
/** @fabric/sandbox's STATE_FILE, named here to avoid loading the sandbox package at run time. */
const STATE_FILE = 'sandbox.json';
const run = promisify(execFile);

export type ServiceAction = 'stop' | 'start';
/** deploy/chaos/service.sh ACTION REGION COMPONENT on one sandbox; resolves to its output. */
export type ServiceControl = (action: ServiceAction, region: string, component: ComponentKind) => Promise<string>;

export interface Fabric {
  endpoints: SandboxEndpoints;
  /** ms from `fabric up` to ready; null when attached to a running sandbox */
  readyMs: number | null;
  /** Stops the sandbox this bench started (nothing when attached). */
  stop(): Promise<void>;
  service: ServiceControl;
}

/** The line `fabric up --json` prints once ready. */
interface UpReady {
  readyMs: number;
  endpoints: SandboxEndpoints;
  tokensFile?: string;
}

export interface StartOptions {
  regions: string;
  portBase: number;
  stateDir: string;
  /** PostgreSQL major and how the other regions follow the primary. */
  topology: { postgres: number; replication: 'physical' | 'logical' };
}

export function startFabric({ regions, portBase, stateDir, topology }: StartOptions): Promise<Fabric> {
  const args = [CLI, 'up', '--json', '--port-base', String(portBase), '--state-dir', stateDir, '--regions', regions];
  args.push('--postgres', String(topology.postgres), '--replication', topology.replication);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FABRIC_LOG_LEVEL: 'warn' },
  });
  let out = '';
  let err = '';
  let ready = false;
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise<Fabric>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (ready) return;
      out += d.toString();
      // Only complete lines: a chunk may end inside the JSON line.
      const line = out
        .split('\n')
        .slice(0, -1)
        .find((l) => l.startsWith('{'));
      if (!line) return;
      ready = true;
      const up = JSON.parse(line) as UpReady;
      resolve({
        endpoints: up.endpoints,
        readyMs: up.readyMs,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
        service: serviceFor(stateDir),
      });
    });
    void exited.then((code) => reject(new Error(`fabric up exited with ${code} before ready: ${err}`)));
  });
}

/** A `fabric up` already running on stateDir (BENCH_ATTACH=1); the bench does not stop it. */
export function attachFabric(stateDir: string): Fabric {
  const st = JSON.parse(readFileSync(path.join(stateDir, STATE_FILE), 'utf8')) as SandboxState;
  return { endpoints: st.endpoints, readyMs: null, stop: async () => {}, service: serviceFor(stateDir) };
}

/** deploy/chaos/service.sh bound to a state dir. */
export function serviceFor(stateDir: string): ServiceControl {
  return async (action, region, component) => {
    const { stdout } = await run(SERVICE_SH, [action, region, component, '--state-dir', stateDir]);
    return stdout.trim();
  };
}
