import { rmSync } from 'node:fs';
import path from 'node:path';
import { resolveSandboxConfig, Sandbox } from '@fabric/sandbox';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import './provided-context.js';

/**
 * Starts one real three-region sandbox for the whole integration run, on its own port
 * range and state directory so it never meets a sandbox started by `npm start`.
 */
export const TEST_PORT_BASE = Number(process.env.FABRIC_TEST_PORT_BASE ?? 26400);
export const TEST_STATE_DIR = path.resolve(process.env.FABRIC_TEST_STATE_DIR ?? '.fabric/test-sandbox');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A fresh state each run: tests assert on exact rows and topic contents.
  rmSync(TEST_STATE_DIR, { recursive: true, force: true });
  const logger = pino({ level: process.env.FABRIC_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  // FABRIC_TEST_POSTGRES / FABRIC_TEST_REPLICATION pick the topology; the suites that start
  // their own sandbox through `fabric up` read it from FABRIC_POSTGRES / FABRIC_REPLICATION.
  if (process.env.FABRIC_TEST_POSTGRES) process.env.FABRIC_POSTGRES = process.env.FABRIC_TEST_POSTGRES;
  if (process.env.FABRIC_TEST_REPLICATION) process.env.FABRIC_REPLICATION = process.env.FABRIC_TEST_REPLICATION;
  const config = resolveSandboxConfig({
    stateDir: TEST_STATE_DIR,
    portBase: TEST_PORT_BASE,
    postgres: process.env.FABRIC_POSTGRES,
    replication: process.env.FABRIC_REPLICATION,
  });
  const started = Date.now();
  const sandbox = await Sandbox.start(config, { logger });
  process.stderr.write(
    `[integration] sandbox ready in ${Date.now() - started} ms (state ${TEST_STATE_DIR}, PostgreSQL ${config.postgres} ${config.replication}, node ${process.version})\n`,
  );
  project.provide('endpoints', sandbox.endpoints);
  return () => sandbox.stop();
}
