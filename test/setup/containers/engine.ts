import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { getContainerRuntimeClient } from 'testcontainers';
import { ROOT } from '../../deploy/compose-file.js';
import { NoContainerEngineError } from './errors.js';

const run = promisify(execFile);
const SCRIPT = path.join(ROOT, 'scripts', 'containers.sh');

/** The engine the containers run on, and how to leave it as it was found. */
export interface Engine {
  dockerHost: string | undefined;
  /** podman's API on the project's socket, whose images are built here and never pulled. */
  projectPodman: boolean;
  /** Stops the API service if this run started it; a service that was running stays. */
  release(): Promise<void>;
  /** The same as a command, for a watcher that outlives this process; empty when nothing to stop. */
  releaseCommand: string[];
}

/**
 * Finds the engine: DOCKER_HOST when set (a laptop's Docker, a CI service); else, where
 * scripts/containers.sh says containers can run, podman's API on the project's socket
 * (started if needed, stopped again afterwards); else whatever testcontainers finds
 * (/var/run/docker.sock, ...). Sets what testcontainers reads before its first call.
 */
export async function connectEngine(log: (line: string) => void): Promise<Engine> {
  // The Ryuk image cannot be pulled here; the backend removes what it made itself (reaper.ts).
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  // Ports are published on the loopback only, as the compose file publishes them.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
  let engine: Engine = {
    dockerHost: process.env.DOCKER_HOST,
    projectPodman: false,
    release: async () => {},
    releaseCommand: [],
  };
  let unavailable = '';
  if (!process.env.DOCKER_HOST) {
    const check = await script(['check']);
    if (check.ok) {
      engine = await startProjectPodman(log);
      process.env.DOCKER_HOST = engine.dockerHost;
    } else {
      unavailable = `scripts/containers.sh check: ${check.output}`;
    }
  }
  try {
    const { containerRuntime: info } = (await getContainerRuntimeClient()).info;
    log(
      `engine ${engine.dockerHost ?? info.remoteSocketPath}: ${info.operatingSystem}, API server ${info.serverVersion}`,
    );
  } catch (err) {
    await engine.release();
    const tried = engine.dockerHost ? `DOCKER_HOST=${engine.dockerHost} does not answer` : 'no engine found';
    throw new NoContainerEngineError(`${tried} (${(err as Error).message})${unavailable ? `; ${unavailable}` : ''}`);
  }
  return engine;
}

async function startProjectPodman(log: (line: string) => void): Promise<Engine> {
  const wasRunning = (await script(['service', 'status'])).ok;
  const started = await script(['service', 'start']);
  const dockerHost = /^DOCKER_HOST=(.+)$/m.exec(started.stdout)?.[1];
  if (!started.ok || !dockerHost) {
    throw new NoContainerEngineError(`scripts/containers.sh service start failed: ${started.output}`);
  }
  if (!wasRunning) log(`started podman's API (${dockerHost}); stopped again at teardown`);
  return {
    dockerHost,
    projectPodman: true,
    releaseCommand: wasRunning ? [] : ['bash', SCRIPT, 'service', 'stop'],
    release: async () => {
      if (wasRunning) return;
      const stopped = await script(['service', 'stop']);
      if (!stopped.ok) log(`scripts/containers.sh service stop failed: ${stopped.output}`);
    },
  };
}

async function script(args: string[]): Promise<{ ok: boolean; stdout: string; output: string }> {
  try {
    const { stdout, stderr } = await run('bash', [SCRIPT, ...args], { cwd: ROOT, timeout: 60_000 });
    return { ok: true, stdout, output: `${stdout}${stderr}`.trim() };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message;
    return { ok: false, stdout: e.stdout ?? '', output: output.split('\n').at(-1)! };
  }
}
