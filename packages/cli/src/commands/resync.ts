import { parseArgs } from 'node:util';
import { ResyncResponseSchema, toJson } from '@fabric/control-plane';
import { CONTROL_PLANE_OPTIONS, CONTROL_PLANE_OPTIONS_HELP, connectControlPlane } from '../control-plane-options.js';
import { UsageError } from '../usage.js';

export const RESYNC_HELP = `Usage: fabric resync --region R [--reason TEXT] [--json]

Resyncs a region: its invalidator runs the region's recovery action, the invalidations
every table's key rules name for "changes may have been missed" (literal keys, tags,
versions, and patterns it expands with SCAN), as it does by itself when the region's CDC
reader or invalidator detects a gap. Use it when the cache may hold entries older than
the database for a reason the fabric cannot see, e.g. a database restored from a backup.

The control plane publishes one RESYNC event (reason "operator", the detail naming your
token and the reason) to every partition of the region's invalidation topic, so the
recovery is ordered after everything already queued. The region reports DEGRADED while it
runs; follow it with fabric lag. Expect cache misses there until entries are filled
again. The recovery action is the one the region's reader recorded at its last start:
the reader must have run once with its key rules. Needs an admin token.

Options:
  --region NAME          Region to resync                                   (required)
  --reason TEXT          Why, for the resync's detail and logs (at most 500 characters)
${CONTROL_PLANE_OPTIONS_HELP}
`;

const OPTIONS = {
  ...CONTROL_PLANE_OPTIONS,
  region: { type: 'string' },
  reason: { type: 'string' },
} as const;

export async function resync(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(RESYNC_HELP);
    return 0;
  }
  const region = values.region?.trim();
  if (!region) throw new UsageError('--region is required: name the region to resync');
  const client = connectControlPlane(values);
  try {
    const response = await client.continuity.resync({ region, reason: values.reason ?? '' }, { deadlineMs: 30_000 });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(toJson(ResyncResponseSchema, response, { alwaysEmitImplicit: true }))}\n`);
    } else {
      process.stdout.write(
        `${response.region}: resync ${response.resyncId} published to ${response.topic} (${response.copies} partition(s)); follow it with fabric lag --region ${response.region}\n`,
      );
    }
    return 0;
  } finally {
    client.close();
  }
}
