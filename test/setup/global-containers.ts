import { spawn } from 'node:child_process';
import { mkdirSync, openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertPortsFree, describeEndpoints, resolveSandboxConfig, type SandboxEndpoints } from '@fabric/sandbox';
import type { TestProject } from 'vitest/node';
import { type ComposeTopology, loadTopology } from './containers/definitions.js';
import { connectEngine } from './containers/engine.js';
import { ContainerBackendError } from './containers/errors.js';
import { waitFromHost } from './containers/host-readiness.js';
import { removeStack } from './containers/reaper.js';
import { ContainerStack } from './containers/stack.js';
import './provided-context.js';

/**
 * FABRIC_TEST_BACKEND=containers: the regions' PostgreSQL, Kafka and Redis from
 * docker-compose.regions.yml, run through testcontainers, instead of local processes. The
 * suites get the same `endpoints` as from the sandbox and run unchanged: they start their
 * own readers, invalidators and control planes as host processes (as beside the sandbox),
 * against the published ports. Own port range and state directory, so it can run beside the
 * sandbox, `npm start` and the compose stack.
 */
const PORT_BASE = Number(process.env.FABRIC_TEST_PORT_BASE ?? 20400);
const STATE_DIR = path.resolve(process.env.FABRIC_TEST_STATE_DIR ?? '.fabric/test-containers');
const REAPER = fileURLToPath(new URL('./containers/reaper.ts', import.meta.url));

const say = (line: string) => process.stderr.write(`[integration] containers: ${line}\n`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const topology = loadTopology(PORT_BASE);
  refuseOtherTopology(topology.postgres, topology.replication);
  const endpoints = endpointsOf(topology, PORT_BASE);
  // A fresh state each run, as the sandbox's: tests assert on exact rows and topic contents.
  rmSync(STATE_DIR, { recursive: true, force: true });
  for (const r of endpoints.regions) mkdirSync(path.join(STATE_DIR, r.region, 'logs'), { recursive: true });

  const engine = await connectEngine(say);
  const stack = String(PORT_BASE);
  let reaper: ReturnType<typeof spawn> | undefined;
  let running: ContainerStack | undefined;
  const teardown = async () => {
    try {
      await running?.stop();
      // The stack is gone: the watcher has nothing left to do. Had removing it failed, the
      // watcher stays and tries again once this process has exited.
      if (reaper?.exitCode === null) reaper.kill('SIGTERM');
    } finally {
      await engine.release();
    }
  };
  try {
    const left = await removeStack(stack);
    if (left.containers.length + left.networks.length > 0) {
      say(`removed what an earlier run left: ${[...left.containers, ...left.networks].join(', ')}`);
    }
    await assertPortsFree(topology.plan, '127.0.0.1');
    reaper = watchThisProcess(stack, engine.releaseCommand);
    running = await ContainerStack.start(topology.definitions, {
      stack,
      stateDir: STATE_DIR,
      noPull: engine.projectPodman,
      log: say,
    });
    await waitFromHost(endpoints);
  } catch (err) {
    await teardown();
    throw err;
  }
  say(
    `ready in ${Date.now() - started} ms (${topology.definitions.length} containers from docker-compose.regions.yml, ` +
      `ports from ${PORT_BASE}, state ${STATE_DIR}, PostgreSQL ${topology.postgres} ${topology.replication}, node ${process.version})`,
  );
  project.provide('endpoints', endpoints);
  return teardown;
}

/** The stack runs the compose file's topology; a request for another one would be silently ignored. */
function refuseOtherTopology(postgres: number, replication: string): void {
  const asked = { FABRIC_TEST_POSTGRES: String(postgres), FABRIC_TEST_REPLICATION: replication };
  for (const [name, value] of Object.entries(asked)) {
    const given = process.env[name];
    if (given !== undefined && given !== value) {
      throw new ContainerBackendError(
        `${name}=${given}: the containers backend runs docker-compose.regions.yml's topology (PostgreSQL ${postgres}, ${replication}); unset ${name} or use the sandbox backend`,
      );
    }
  }
}

/**
 * The sandbox's endpoints for the same regions and port base (the shape and the port plan
 * are the sandbox's own), with the compose file's database credentials: its PostgreSQL
 * asks for a password where the sandbox trusts local connections.
 */
function endpointsOf(topology: ComposeTopology, portBase: number): SandboxEndpoints {
  const home = topology.regions.find((r) => r.home)!;
  const config = resolveSandboxConfig({
    regions: topology.regions.map((r) => r.name),
    home: home.name,
    stateDir: STATE_DIR,
    portBase,
    postgres: topology.postgres,
    replication: topology.replication,
  });
  const described = describeEndpoints(config);
  const { name, user, password } = topology.database;
  const credentials = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  return {
    ...described,
    regions: described.regions.map((r) => ({
      ...r,
      postgres: {
        ...r.postgres,
        database: name,
        url: `postgres://${credentials}@${r.postgres.host}:${r.postgres.port}/${name}`,
      },
    })),
  };
}

/**
 * Ryuk's job: a detached watcher that removes the stack once this process is gone, and
 * stops the engine service if this run started it, so a run killed before its teardown
 * leaves nothing running. Its output goes to the state directory.
 */
function watchThisProcess(stack: string, release: string[]): ReturnType<typeof spawn> {
  const log = openSync(path.join(STATE_DIR, 'reaper.log'), 'a');
  const child = spawn(process.execPath, [REAPER, String(process.pid), stack, ...release], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  child.unref();
  return child;
}
