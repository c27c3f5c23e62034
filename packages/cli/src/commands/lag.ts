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
measure is shown as "?", never as 0. P50 / P99 cover the applies of the last 60 s: "?"
when the window is empty (idle), not the last spike. Freshness is the invalidator
group's worst partition, whichever invalidator answered.

Each region is healthy, degraded (a component not answering or unhealthy, a running
resync, pending dead letters, Kafka lag, a slot about to lose WAL), unhealthy (freshness
over its threshold, a slot lost or gone, a reader whose publisher has been retrying one
batch too long) or UNREACHABLE; PROBLEMS (reasons, in --json) names every threshold
crossed, e.g. "freshness 75 s > 30 s". The thresholds are the control plane's
(configuration "health"; see fabric-control-plane --help).

Exit status (without --watch):
  0  every region shown is healthy
  1  some region is degraded, unhealthy or unreachable
  2  nothing was judged: a bad option, or the control plane could not be asked
     (unreachable, token refused)

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
