import { parseArgs } from 'node:util';
import { replayLedgerTopic } from '@fabric/contracts';
import {
  type ReplayDeadLettersResponse,
  ReplayDeadLettersResponseSchema,
  ReplayOutcome,
  toJson,
} from '@fabric/control-plane';
import { CONTROL_PLANE_OPTIONS, CONTROL_PLANE_OPTIONS_HELP, connectControlPlane } from '../control-plane-options.js';
import { ReplayProgress } from '../progress.js';
import { UsageError } from '../usage.js';
import { DLQ_FILTER_HELP, DLQ_FILTER_OPTIONS, dlqFilter, dlqRange } from './dlq-filter.js';

export const DLQ_REPLAY_HELP = `Usage: fabric dlq replay --region R [range] [filters] [--dry-run] [--force] [--json]

Publishes the original events of a region's dead letters to the region's invalidation
topic again, in DLQ order, and records each replayed dead letter (topic ${replayLedgerTopic('<dlq>')}),
so running the same replay twice publishes nothing the second time: those, and dead
letters an operator resolved, are reported as skipped unless --force. Dead letters
without a decodable original event (e.g. a row no key rule could render) are reported
as not replayable, with what to do instead (then fabric dlq resolve). Needs an admin
token. Progress goes to stderr; the summary to stdout.

Options:
  --region NAME          The region whose DLQ to replay                     (required)
  --partition N          Only this DLQ partition (with offsets)
  --from-offset N        First DLQ offset, inclusive
  --to-offset N          Last DLQ offset, inclusive
${DLQ_FILTER_HELP}
  --dry-run              Count what would be replayed; publish nothing
  --force                Publish again dead letters an earlier replay published
${CONTROL_PLANE_OPTIONS_HELP}
`;

const OPTIONS = {
  ...CONTROL_PLANE_OPTIONS,
  region: { type: 'string' },
  partition: { type: 'string' },
  'from-offset': { type: 'string' },
  'to-offset': { type: 'string' },
  ...DLQ_FILTER_OPTIONS,
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
} as const;

export async function dlqReplay(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(DLQ_REPLAY_HELP);
    return 0;
  }
  if (!values.region) throw new UsageError('--region is required: name the region whose dead letters to replay');
  const range = dlqRange(values);
  const client = connectControlPlane(values);
  const progress = new ReplayProgress();
  const items: ReplayDeadLettersResponse['items'] = [];
  let last: ReplayDeadLettersResponse | undefined;
  try {
    const stream = client.deadLetters.replayDeadLetters({
      region: values.region,
      range,
      filter: dlqFilter(values),
      dryRun: values['dry-run'] ?? false,
      force: values.force ?? false,
    });
    for await (const message of stream) {
      progress.update(message);
      items.push(...message.items);
      last = message;
    }
  } finally {
    progress.finish();
    client.close();
  }
  if (!last?.done) throw new Error('the replay stream ended without its final summary');
  if (values.json) {
    last.items = items;
    process.stdout.write(
      JSON.stringify(toJson(ReplayDeadLettersResponseSchema, last, { alwaysEmitImplicit: true })) + '\n',
    );
    return 0;
  }
  const verb = last.dryRun ? 'would replay' : 'replayed';
  process.stdout.write(
    `${values.region}: ${verb} ${last.replayed}, skipped ${last.skipped} (replayed before; --force to publish again), not replayable ${last.notReplayable}, of ${last.matched} matching dead letter(s) among ${last.scanned} scanned\n`,
  );
  for (const item of items.filter((i) => i.outcome === ReplayOutcome.NOT_REPLAYABLE)) {
    process.stdout.write(`  not replayable: partition ${item.partition} offset ${item.offset}: ${item.reason}\n`);
  }
  return 0;
}
