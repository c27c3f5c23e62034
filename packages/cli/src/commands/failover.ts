import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { readSandboxState, resolveSandboxConfig } from '@fabric/sandbox';
import {
  FAILOVER_SIGNAL,
  type FailoverProgress,
  readFailoverProgress,
  writeFailoverRequest,
} from '../failover-request.js';
import { UsageError } from '../usage.js';

export const FAILOVER_HELP = `Usage: fabric failover --to REGION [--state-dir DIR] [--json]

Moves the home region of the running sandbox (fabric up) to REGION, as an operator does
a planned failover. Physical standbys: the old primary is shut down cleanly and fenced,
REGION's standby is promoted, the other standbys follow it on the new timeline, and the
old primary is made again as a standby of the new one. Logical replicas: the old primary
turns read-only, every subscription confirms its last change, and every region
subscribes to REGION instead. The heartbeat writer moves with the home region and the
control plane reports REGION as home. Regions whose WAL history continues stream on; a
region whose slot did not survive (the rebuilt old primary) resyncs its cache. Prints
each step as it completes.

Options:
  --to REGION        The region to promote                                      (required)
  --state-dir DIR    The sandbox's state directory (default .fabric/sandbox; env FABRIC_STATE_DIR)
  --timeout-s N      Give up waiting after this long (default 600)
  --json             Print the final report as JSON
  --help
`;

const OPTIONS = {
  to: { type: 'string' },
  'state-dir': { type: 'string' },
  'timeout-s': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function failover(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(FAILOVER_HELP);
    return 0;
  }
  if (!values.to) throw new UsageError('--to is required: name the region to promote');
  const timeoutS = Number(values['timeout-s'] ?? '600');
  if (!Number.isInteger(timeoutS) || timeoutS < 1)
    throw new UsageError('--timeout-s must be a whole number of seconds');
  const { stateDir } = resolveSandboxConfig({ stateDir: values['state-dir'] ?? process.env.FABRIC_STATE_DIR });
  const state = readSandboxState(stateDir);
  if (!state) throw new UsageError(`no sandbox is running in ${stateDir}; start it with npm start (or fabric up)`);
  const regions = state.endpoints.regions.map((r) => r.region);
  if (!regions.includes(values.to)) throw new UsageError(`--to ${values.to}: no such region (${regions.join(', ')})`);

  const request = writeFailoverRequest(stateDir, values.to);
  process.kill(state.pid, FAILOVER_SIGNAL);
  const deadline = Date.now() + timeoutS * 1000;
  let printed = 0;
  let progress: FailoverProgress | undefined;
  while (Date.now() < deadline) {
    progress = readFailoverProgress(stateDir, request.id);
    if (progress && !values.json)
      for (const s of progress.steps.slice(printed))
        process.stdout.write(
          `${s.step.padEnd(9)} ${s.region.padEnd(10)} ${(s.ms / 1000).toFixed(1).padStart(6)} s  ${s.detail}\n`,
        );
    printed = progress?.steps.length ?? printed;
    if (progress && progress.state !== 'running') break;
    await sleep(250);
  }
  if (!progress || progress.state === 'running')
    throw new UsageError(`failover to ${values.to} did not finish within ${timeoutS} s; see the sandbox's log`);
  if (values.json) process.stdout.write(`${JSON.stringify(progress)}\n`);
  if (progress.state === 'failed') {
    process.stderr.write(`fabric: failover to ${values.to} failed: ${progress.error}\n`);
    return 1;
  }
  if (!values.json)
    process.stdout.write(
      `${values.to} is the home region (failover took ${((progress.report?.totalMs ?? 0) / 1000).toFixed(1)} s` +
        `${progress.report?.rebuilt.length ? `; rebuilt: ${progress.report.rebuilt.join(', ')}` : ''})\n`,
    );
  return 0;
}
