#!/usr/bin/env node
// `npm test` after set-up: the whole suite on the default topology (PostgreSQL 17, physical
// standbys), then the suites that must also hold on PostgreSQL 15 with logical replicas,
// the mode 15 is limited to, then the runs on containers (scripts/containers.sh). One run
// after the other: each starts a sandbox or a stack of its own, and two at once would share
// two cores. Signals go to the run in progress, so stopping `npm test` leaves no sandbox
// behind; the exit code is the first failure's.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

const bin = path.resolve(import.meta.dirname, '..', 'node_modules', '.bin');

const LOGICAL_SUITES = ['test/pipeline/end-to-end.test.ts', 'test/cdc/crash.test.ts', 'test/chaos/chaos.test.ts'];

// The part of the suite that also runs on the compose file's services in containers
// (FABRIC_TEST_BACKEND=containers): the whole path, crashes, dead letters, the control plane.
const CONTAINER_SUITES = [
  'test/setup/containers/definitions.test.ts',
  'test/pipeline/end-to-end.test.ts',
  'test/cdc/crash.test.ts',
  'test/cdc/bad-payload.test.ts',
  'test/invalidator/dead-letter-limits.test.ts',
  'test/control-plane/dead-letters.test.ts',
  'test/control-plane/lag.test.ts',
];

const containersSh = path.resolve(import.meta.dirname, 'containers.sh');
let containersPrepared = false;

/** Why containers cannot run here (scripts/containers.sh check's line), or undefined. */
function containersUnavailable() {
  if (!containersPrepared) {
    containersPrepared = true;
    // Installs podman and builds the images where it can (root on Debian; seconds when
    // nothing changed); elsewhere it says why in one line, and check below decides.
    spawnSync('bash', [containersSh, 'setup'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const check = spawnSync('bash', [containersSh, 'check'], { encoding: 'utf8' });
  return check.status === 0 ? undefined : `${check.stdout}${check.stderr}`.trim() || `check exited ${check.status}`;
}

const runs = [
  { name: 'default topology', args: ['--project', 'unit', '--project', 'integration'], env: {} },
  {
    name: 'PostgreSQL 15, logical replicas',
    args: ['--project', 'integration', ...LOGICAL_SUITES],
    env: {
      FABRIC_TEST_POSTGRES: '15',
      FABRIC_TEST_REPLICATION: 'logical',
      FABRIC_TEST_STATE_DIR: '.fabric/test-sandbox-pg15-logical',
    },
  },
  {
    name: 'containers backend (the compose services through testcontainers)',
    args: ['--project', 'integration', ...CONTAINER_SUITES],
    env: { FABRIC_TEST_BACKEND: 'containers' },
    unavailable: containersUnavailable,
  },
  {
    // test/containers/compose.test.ts: docker-compose.regions.yml itself, brought up and down.
    name: 'compose stack (docker-compose.regions.yml in containers)',
    args: ['--project', 'containers'],
    env: {},
    unavailable: containersUnavailable,
  },
];

let current;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    current?.kill(signal);
  });
}

const only = process.argv.slice(2);
let failed = 0;
for (const run of runs) {
  if (stopping) break;
  // Arguments given to `npm test -- ...` pick files of the first run only, as vitest would.
  if (only.length > 0 && run !== runs[0]) break;
  process.stderr.write(`\n[test] ${run.name}\n`);
  const unavailable = run.unavailable?.();
  if (unavailable) {
    // In CI a suite that cannot run fails; elsewhere it is skipped, saying why.
    const ci = process.env.CI === 'true';
    process.stderr.write(`[test] ${ci ? 'FAILED' : 'skipped'}: containers cannot run here: ${unavailable}\n`);
    if (ci && failed === 0) failed = 1;
    continue;
  }
  const started = Date.now();
  const code = await new Promise((resolve) => {
    current = spawn('vitest', ['run', ...run.args, ...only], {
      stdio: 'inherit',
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, ...run.env },
    });
    current.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  process.stderr.write(`[test] ${run.name}: exit ${code} after ${Math.round((Date.now() - started) / 1000)} s\n`);
  if (code !== 0 && failed === 0) failed = code;
}
process.exit(stopping && failed === 0 ? 1 : failed);
