import { parseArgs } from 'node:util';
import {
  type GetLagResponse,
  GetLagResponseSchema,
  RegionStatus,
  toJson,
  WatchLagResponseSchema,
} from '@fabric/control-plane';
import { CONTROL_PLANE_OPTIONS, CONTROL_PLANE_OPTIONS_HELP, connectControlPlane } from '../control-plane-options.js';
import { UsageError } from '../usage.js';
import { lagTable } from './lag-table.js';

export const LAG_HELP = `Usage: fabric lag [--region R] [--watch [--interval MS]] [--json]

How fresh each region is, from the control plane: replication lag (primary -> replica,
bytes / seconds), CDC lag (WAL not yet confirmed by the region's reader), Kafka lag of the
invalidator group, freshness (now - primary commit time of the newest invalidation applied
in the region), commit->applied latency p50 / p99, dead letters not yet replayed,
continuity (ok; a resync running, with its reason, start and keys dropped so far; or the
last resync that finished) and which components did not answer. A value nobody could
measure is shown as "?", never as 0. A running resync makes its region degraded: the
cache is not fresh until its recovery action has run. Exits 1 when a region is not
healthy (without --watch).

Options:
  --region NAME          One region (default: all)
  --watch                Keep printing a fresh snapshot until Ctrl-C
  --interval MS          Between snapshots with --watch (default 1000, 200-60000)
${CONTROL_PLANE_OPTIONS_HELP}
`;

const OPTIONS = {
  ...CONTROL_PLANE_OPTIONS,
  region: { type: 'string' },
  watch: { type: 'boolean' },
  interval: { type: 'string' },
} as const;

export async function lag(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(LAG_HELP);
    return 0;
  }
  const interval = values.interval === undefined ? 0 : Number(values.interval);
  if (!Number.isInteger(interval) || interval < 0)
    throw new UsageError(`--interval: "${values.interval}" must be milliseconds`);
  if (values.interval !== undefined && !values.watch) throw new UsageError('--interval only goes with --watch');
  const client = connectControlPlane(values);
  try {
    if (!values.watch) {
      const response = await client.lag.getLag({ region: values.region ?? '' }, { deadlineMs: 30_000 });
      show(response, () => toJson(GetLagResponseSchema, response, JSON_OPTIONS), values.json, false);
      return response.regions.every((r) => r.status === RegionStatus.HEALTHY) ? 0 : 1;
    }
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    // A reader that went away (fabric lag --watch | head) ends the watch like Ctrl-C does.
    process.stdout.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? stop.abort() : undefined));
    try {
      for await (const snapshot of client.lag.watchLag(
        { region: values.region ?? '', intervalMs: interval },
        { signal: stop.signal },
      )) {
        show(snapshot, () => toJson(WatchLagResponseSchema, snapshot, JSON_OPTIONS), values.json, true);
      }
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    }
    return 0;
  } finally {
    client.close();
  }
}

/** Zero values are printed too; unknown values (unset optionals) stay absent. */
const JSON_OPTIONS = { alwaysEmitImplicit: true } as const;

function show(
  response: Pick<GetLagResponse, 'regions'>,
  asJson: () => unknown,
  json: boolean | undefined,
  watching: boolean,
): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(asJson())}\n`);
    return;
  }
  const now = new Date();
  const table = lagTable(response, now);
  if (watching && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
  process.stdout.write(
    `${watching ? `${now.toISOString()}\n` : ''}${table}\n${watching && !process.stdout.isTTY ? '\n' : ''}`,
  );
}
