#!/usr/bin/env node
// `npm test` after set-up: the whole suite on the default topology (PostgreSQL 17, physical
// standbys), then the suites that must also hold on PostgreSQL 15 with logical replicas,
// the mode 15 is limited to. One run after the other: each starts a sandbox of its own, and
// two at once would share two cores. Signals go to the run in progress, so stopping `npm
// test` leaves no sandbox behind; the exit code is the first failure's.
import { spawn } from 'node:child_process';
import path from 'node:path';

const bin = path.resolve(import.meta.dirname, '..', 'node_modules', '.bin');

const LOGICAL_SUITES = ['test/pipeline/end-to-end.test.ts', 'test/cdc/crash.test.ts', 'test/chaos/chaos.test.ts'];

const runs = [
  { name: 'default topology', args: [], env: {} },
  {
    name: 'PostgreSQL 15, logical replicas',
    args: ['--project', 'integration', ...LOGICAL_SUITES],
    env: {
      FABRIC_TEST_POSTGRES: '15',
      FABRIC_TEST_REPLICATION: 'logical',
      FABRIC_TEST_STATE_DIR: '.fabric/test-sandbox-pg15-logical',
    },
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
  const code = await new Promise((resolve) => {
    current = spawn('vitest', ['run', ...run.args, ...only], {
      stdio: 'inherit',
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, ...run.env },
    });
    current.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  if (code !== 0 && failed === 0) failed = code;
}
process.exit(stopping && failed === 0 ? 1 : failed);
