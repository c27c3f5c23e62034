import { parseArgs } from 'node:util';
import {
  type DeadLetterEntry,
  DeadLetterState,
  ListDeadLettersResponseSchema,
  timestampDate,
  toJson,
} from '@fabric/control-plane';
import { CONTROL_PLANE_OPTIONS, CONTROL_PLANE_OPTIONS_HELP, connectControlPlane } from '../control-plane-options.js';
import { renderTable } from '../table.js';
import { UsageError } from '../usage.js';
import { DLQ_FILTER_HELP, DLQ_FILTER_OPTIONS, dlqFilter, dlqTimeRange } from './dlq-filter.js';

export const DLQ_LS_HELP = `Usage: fabric dlq ls [--region R] [--limit N] [filters] [--json]

Lists dead letters, oldest first, region by region: where each sits in the DLQ
(partition, offset), when and why it failed, and its state: pending, not replayable
(pending, with what to do instead; then fabric dlq resolve), replayed, or resolved (with
the note and who resolved it). A read
token sees no row data (changed columns, original event, keys). Prints the token for
the next page when there is one; a page may end early after a long scan.

Options:
  --region NAME          One region (default: all)
  --limit N              Dead letters per page (default 50, at most 500)
  --page-token TOKEN     Continue a listing
${DLQ_FILTER_HELP}
  --pending              Leave out dead letters already replayed or resolved
${CONTROL_PLANE_OPTIONS_HELP}
`;

const OPTIONS = {
  ...CONTROL_PLANE_OPTIONS,
  region: { type: 'string' },
  limit: { type: 'string' },
  'page-token': { type: 'string' },
  ...DLQ_FILTER_OPTIONS,
  pending: { type: 'boolean' },
} as const;

export async function dlqList(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(DLQ_LS_HELP);
    return 0;
  }
  const limit = values.limit === undefined ? 0 : Number(values.limit);
  if (values.limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) {
    throw new UsageError(`--limit: "${values.limit}" must be an integer from 1 to 500`);
  }
  const timeRange = dlqTimeRange(values);
  const client = connectControlPlane(values);
  try {
    const page = await client.deadLetters.listDeadLetters(
      {
        region: values.region ?? '',
        pageSize: limit,
        pageToken: values['page-token'] ?? '',
        filter: dlqFilter(values),
        timeRange,
        pendingOnly: values.pending ?? false,
      },
      { deadlineMs: 60_000 },
    );
    if (values.json) {
      process.stdout.write(
        JSON.stringify(toJson(ListDeadLettersResponseSchema, page, { alwaysEmitImplicit: true })) + '\n',
      );
      return 0;
    }
    const rows = page.deadLetters.map((d) => [
      d.region,
      String(d.partition),
      String(d.offset),
      d.deadLetter?.failedTime
        ? timestampDate(d.deadLetter.failedTime).toISOString()
        : d.kafkaTime
          ? timestampDate(d.kafkaTime).toISOString()
          : '?',
      d.deadLetter?.component || '?',
      d.deadLetter?.table || d.event?.table || '-',
      stateOf(d),
      d.state === DeadLetterState.RESOLVED
        ? `${d.resolutionNote} (resolved by ${d.settledBy || '?'})`
        : d.replayable || d.state === DeadLetterState.REPLAYED
          ? d.deadLetter?.reason || ''
          : [d.deadLetter?.reason, d.notReplayableReason].filter(Boolean).join(' -- '),
    ]);
    process.stdout.write(
      `${renderTable(['REGION', 'PARTITION', 'OFFSET', 'FAILED', 'COMPONENT', 'TABLE', 'STATE', 'REASON'], rows)}\n`,
    );
    process.stdout.write(
      `${page.pending} dead letter(s) pending (neither replayed nor resolved)${values.region ? ` in ${values.region}` : ''}\n`,
    );
    if (page.nextPageToken) process.stdout.write(`more: repeat with --page-token ${page.nextPageToken}\n`);
    return 0;
  } finally {
    client.close();
  }
}

function stateOf(d: DeadLetterEntry): string {
  if (d.state === DeadLetterState.RESOLVED) return 'resolved';
  if (d.state === DeadLetterState.REPLAYED || d.replayed) return 'replayed';
  // Still pending, but only a resolution closes it.
  return d.replayable ? 'pending' : 'not replayable';
}
