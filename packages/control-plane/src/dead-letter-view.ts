import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  type DeadLetter,
  type DeadLetterEntrySchema,
  DeadLetterSchema,
  DeadLetterState,
  fromBinary,
  type InvalidationEvent,
  InvalidationEventSchema,
  Operation,
  timestampDate,
  timestampFromDate,
} from '@fabric/proto';
import { notReplayableReason, type Unreplayable } from './dead-letter-hint.js';
import type { Settlement } from './replay-ledger.js';
import type { ScannedRecord } from './topic-scan.js';

/** One DLQ record, decoded as far as it goes, and whether its original can be published again. */
export interface DeadLetterView {
  partition: number;
  offset: bigint;
  kafkaTime: Date;
  /** DeadLetter.failed_time, or the Kafka record time when the writer left it unset. */
  failedAt: Date;
  deadLetter: DeadLetter | undefined;
  event: InvalidationEvent | undefined;
  replayable: boolean;
  notReplayableReason: string;
}

export interface DeadLetterCriteria {
  component: string;
  reasonContains: string;
  table: string;
  since: Date | undefined;
  until: Date | undefined;
}

export function viewDeadLetter(record: ScannedRecord): DeadLetterView {
  const base = { partition: record.partition, offset: record.offset, kafkaTime: record.time };
  const refuse = (why: Unreplayable, event?: InvalidationEvent): DeadLetterView => {
    const deadLetter = 'deadLetter' in why ? why.deadLetter : undefined;
    return {
      ...base,
      failedAt: failedAt(deadLetter, record.time),
      deadLetter,
      event,
      replayable: false,
      notReplayableReason: notReplayableReason(why),
    };
  };
  if (!record.value || record.value.length === 0) return refuse({ kind: 'empty-record' });
  let deadLetter: DeadLetter;
  try {
    deadLetter = fromBinary(DeadLetterSchema, record.value);
  } catch (err) {
    return refuse({ kind: 'not-a-dead-letter', error: (err as Error).message });
  }
  if (deadLetter.original.length === 0) return refuse({ kind: 'no-original', deadLetter });
  let event: InvalidationEvent;
  try {
    event = fromBinary(InvalidationEventSchema, deadLetter.original);
  } catch (err) {
    return refuse({ kind: 'undecodable-original', deadLetter, error: (err as Error).message });
  }
  // Arbitrary bytes can decode as an empty message; only a real event is worth publishing.
  if (event.id === '')
    return refuse(
      { kind: 'not-an-event', deadLetter, problem: 'original has no event id: not an InvalidationEvent' },
      event,
    );
  if (
    event.operation !== Operation.HEARTBEAT &&
    event.keys.length + event.tags.length + event.versions.length + event.patterns.length === 0
  ) {
    return refuse({ kind: 'not-an-event', deadLetter, problem: 'original holds no cache operation' }, event);
  }
  return {
    ...base,
    failedAt: failedAt(deadLetter, record.time),
    deadLetter,
    event,
    replayable: true,
    notReplayableReason: '',
  };
}

export function matchesCriteria(view: DeadLetterView, c: DeadLetterCriteria): boolean {
  const dl = view.deadLetter;
  if (c.component && dl?.component !== c.component) return false;
  if (
    c.reasonContains &&
    !(dl?.reason ?? view.notReplayableReason).toLowerCase().includes(c.reasonContains.toLowerCase())
  )
    return false;
  if (c.table && (dl?.table || view.event?.table) !== c.table) return false;
  if (c.since && view.failedAt < c.since) return false;
  if (c.until && view.failedAt >= c.until) return false;
  return true;
}

const STATES = { replayed: DeadLetterState.REPLAYED, resolved: DeadLetterState.RESOLVED } as const;

/**
 * The listing entry of one dead letter. `redact` leaves out the row data (see
 * redactRowData), for callers who may read the fabric's state but not the database's.
 */
export function deadLetterEntry(
  region: string,
  view: DeadLetterView,
  settled: Settlement | undefined,
  redact: boolean,
): MessageInitShape<typeof DeadLetterEntrySchema> {
  const shown = redact ? redactRowData(view) : view;
  return {
    region,
    partition: view.partition,
    offset: view.offset,
    kafkaTime: timestampFromDate(view.kafkaTime),
    deadLetter: shown.deadLetter,
    event: shown.event,
    replayable: view.replayable,
    notReplayableReason: view.notReplayableReason,
    replayed: settled?.state === 'replayed',
    state: settled ? STATES[settled.state] : DeadLetterState.PENDING,
    settledBy: settled?.by ?? '',
    settledTime: settled?.at ? timestampFromDate(settled.at) : undefined,
    resolutionNote: settled?.note ?? '',
    redacted: redact,
  };
}

/**
 * Row data is the column values of the source change and everything derived from them:
 * the change JSON, the original event bytes, and the event's keys, tags, versions and
 * patterns (key templates embed columns such as an email). What stays says where and why
 * it failed: table, LSN, reason (which names only the row's key columns, on purpose),
 * component, positions, event id and operation.
 */
export function redactRowData(view: DeadLetterView): Pick<DeadLetterView, 'deadLetter' | 'event'> {
  return {
    deadLetter: view.deadLetter && {
      ...view.deadLetter,
      change: view.deadLetter.change ? REDACTED : '',
      original: new Uint8Array(),
    },
    event: view.event && { ...view.event, keys: [], tags: [], versions: [], patterns: [] },
  };
}

/** Stands in for the change JSON of a redacted dead letter. */
export const REDACTED = '(redacted: needs a token with the admin scope)';

function failedAt(deadLetter: DeadLetter | undefined, kafkaTime: Date): Date {
  return deadLetter?.failedTime ? timestampDate(deadLetter.failedTime) : kafkaTime;
}
