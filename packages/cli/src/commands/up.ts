import path from 'node:path';
import { parseArgs } from 'node:util';
import { deadLetterTopic, invalidationTopic } from '@fabric/contracts';
import { onShutdownSignal } from '@fabric/runtime';
import { Sandbox } from '@fabric/sandbox';
import type { Logger } from 'pino';
import { startControlPlane, waitForControlPlane } from '../control-plane-worker.js';
import { handleFailovers } from '../failover-handler.js';
import { SANDBOX_OPTIONS, SANDBOX_OPTIONS_HELP, sandboxConfigFrom } from '../sandbox-options.js';
import { waitForWorkers } from '../worker-readiness.js';
import { DEFAULT_RULES, startInvalidators, startReaders } from '../workers.js';
import { endpointsTable } from './endpoints-table.js';

const UP_OPTIONS = {
  ...SANDBOX_OPTIONS,
  rules: { type: 'string' },
  'infra-only': { type: 'boolean' },
} as const;

export const UP_HELP = `Usage: fabric up [options]

Starts the local multi-region sandbox and runs until Ctrl-C or SIGTERM. Per region:
PostgreSQL (the primary in the home region; physical standbys elsewhere, or logical
replicas with --replication logical), one Kafka broker
in KRaft mode with topics ${invalidationTopic('<region>')} and ${deadLetterTopic(invalidationTopic('<region>'))}, and Redis.
Then per region one CDC reader (WAL -> topic) and one invalidator (topic -> Redis), and
one gRPC control plane for all regions; logs in <state-dir>/<region>/logs/, each
restarted with backoff if it crashes. Ready means every reader holds its slot, every
invalidator its partitions, and the control plane answers health checks. State survives restarts; a second 'fabric up' on the same state
directory is refused.

Options:
${SANDBOX_OPTIONS_HELP}
  --rules FILE       Key rules for the readers (default deploy/key-rules.demo.yaml)
  --infra-only       Start PostgreSQL, Kafka and Redis only, no workers
  --json             Print the endpoints as JSON once ready
`;

export async function up(argv: string[], logger: Logger): Promise<number> {
  const { values } = parseArgs({ args: argv, options: UP_OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(UP_HELP);
    return 0;
  }
  const config = sandboxConfigFrom(values);
  const signalled = onShutdownSignal(logger);
  const started = Date.now();
  logger.info(
    { regions: config.regions.map((r) => r.name), stateDir: config.stateDir, portBase: config.portBase },
    'starting sandbox',
  );
  const sandbox = await Sandbox.start(config, { logger });
  let tokensFile: string | undefined;
  if (!values['infra-only']) {
    const rulesPath = path.resolve(values.rules ?? DEFAULT_RULES);
    startReaders(sandbox, rulesPath);
    handleFailovers(sandbox, rulesPath, logger);
    startInvalidators(sandbox);
    tokensFile = startControlPlane(sandbox).tokensFile;
    try {
      await waitForWorkers(sandbox.endpoints, logger);
      await waitForControlPlane(sandbox.endpoints);
    } catch (err) {
      await sandbox.stop();
      throw err;
    }
  }
  const readyMs = Date.now() - started;
  if (values.json) {
    process.stdout.write(
      JSON.stringify({ readyMs, endpoints: sandbox.endpoints, ...(tokensFile ? { tokensFile } : {}) }) + '\n',
    );
  } else {
    const cp = sandbox.endpoints.controlPlane;
    const controlPlane = tokensFile
      ? `\ncontrol plane  ${cp.host}:${cp.port} (gRPC; tokens in ${tokensFile}), metrics :${cp.metricsPort}\n`
      : '';
    process.stdout.write(
      `\n${endpointsTable(sandbox.endpoints)}\n${controlPlane}\nsandbox ready in ${(readyMs / 1000).toFixed(1)} s — try: npm run fabric -- lag   (Ctrl-C to stop)\n`,
    );
  }
  logger.info({ readyMs }, 'sandbox ready');
  return runUntilStopped(sandbox, signalled, logger);
}

/**
 * Runs until a signal. A service or worker that dies on its own is restarted by its
 * supervisor (chaos tests rely on it), so only a signal ends the sandbox.
 */
async function runUntilStopped(sandbox: Sandbox, signalled: Promise<NodeJS.Signals>, logger: Logger): Promise<number> {
  const signal = await signalled;
  logger.info({ signal }, 'stopping sandbox');
  await sandbox.stop();
  logger.info('sandbox stopped');
  return 0;
}
