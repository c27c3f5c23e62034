import { parseArgs } from 'node:util';
import { replayLedgerTopic } from '@fabric/contracts';
import {
  type ResolveDeadLettersResponse,
  ResolveDeadLettersResponseSchema,
  ResolveOutcome,
  toJson,
} from '@fabric/control-plane';
import { CONTROL_PLANE_OPTIONS, CONTROL_PLANE_OPTIONS_HELP, connectControlPlane } from '../control-plane-options.js';
import { UsageError } from '../usage.js';
import { DLQ_FILTER_HELP, DLQ_FILTER_OPTIONS, dlqFilter, dlqRange } from './dlq-filter.js';

export const DLQ_RESOLVE_HELP = `Usage: fabric dlq resolve --region R --note TEXT [range] [filters] [--dry-run] [--json]

Marks a region's pending dead letters as resolved without publishing anything: for dead
letters no replay can fix (undecodable bytes, a change no key rule rendered) once their
cause was dealt with. Each resolution is recorded with the token's name, the time and
the note (topic ${replayLedgerTopic('<dlq>')}, beside the replays), and no longer counts in the
DLQ depth. Replayed or already resolved dead letters are skipped. Needs an admin token.

Options:
  --region NAME          The region whose dead letters to resolve           (required)
  --note TEXT            Why they need no replay, recorded with each one    (required)
  --partition N          Only this DLQ partition (with offsets)
  --from-offset N        First DLQ offset, inclusive
  --to-offset N          Last DLQ offset, inclusive
${DLQ_FILTER_HELP}
  --dry-run              Count what would be resolved; record nothing
${CONTROL_PLANE_OPTIONS_HELP}
`;

const OPTIONS = {
  ...CONTROL_PLANE_OPTIONS,
  region: { type: 'string' },
  note: { type: 'string' },
  partition: { type: 'string' },
  'from-offset': { type: 'string' },
  'to-offset': { type: 'string' },
  ...DLQ_FILTER_OPTIONS,
  'dry-run': { type: 'boolean' },
} as const;

export async function dlqResolve(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(DLQ_RESOLVE_HELP);
    return 0;
  }
  if (!values.region) throw new UsageError('--region is required: name the region whose dead letters to resolve');
  if (!values.note?.trim())
    throw new UsageError('--note is required: say why these dead letters need no replay (it is recorded)');
  const range = dlqRange(values);
  const client = connectControlPlane(values);
  const items: ResolveDeadLettersResponse['items'] = [];
  let last: ResolveDeadLettersResponse | undefined;
  try {
    const stream = client.deadLetters.resolveDeadLetters({
      region: values.region,
      range,
      filter: dlqFilter(values),
      note: values.note,
      dryRun: values['dry-run'] ?? false,
    });
    for await (const message of stream) {
      items.push(...message.items);
      last = message;
    }
  } finally {
    client.close();
  }
  if (!last?.done) throw new Error('the resolve stream ended without its final summary');
  if (values.json) {
    last.items = items;
    process.stdout.write(
      JSON.stringify(toJson(ResolveDeadLettersResponseSchema, last, { alwaysEmitImplicit: true })) + '\n',
    );
    return 0;
  }
  const verb = last.dryRun ? 'would resolve' : 'resolved';
  process.stdout.write(
    `${values.region}: ${verb} ${last.resolved}, skipped ${last.skipped} (already replayed or resolved), of ${last.matched} matching dead letter(s) among ${last.scanned} scanned\n`,
  );
  for (const item of items.filter((i) => i.outcome !== ResolveOutcome.ALREADY_SETTLED)) {
    process.stdout.write(`  ${verb}: partition ${item.partition} offset ${item.offset}\n`);
  }
  return 0;
}
