import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  type DeadLetter,
  type DeadLetterEntrySchema,
  DeadLetterSchema,
  fromBinary,
  type InvalidationEvent,
  InvalidationEventSchema,
  Operation,
  timestampDate,
  timestampFromDate,
} from '@fabric/proto';
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
  const refuse = (deadLetter: DeadLetter | undefined, reason: string, event?: InvalidationEvent): DeadLetterView => ({
    ...base,
    failedAt: failedAt(deadLetter, record.time),
    deadLetter,
    event,
    replayable: false,
    notReplayableReason: reason,
  });
  if (!record.value || record.value.length === 0) return refuse(undefined, 'empty DLQ record');
  let deadLetter: DeadLetter;
  try {
    deadLetter = fromBinary(DeadLetterSchema, record.value);
  } catch (err) {
    return refuse(undefined, `not a DeadLetter: ${(err as Error).message}`);
  }
  const who = deadLetter.component || 'unknown component';
  if (deadLetter.original.length === 0) {
    return refuse(deadLetter, `no original event (${who}): fix the cause, then repeat the source change`);
  }
  let event: InvalidationEvent;
  try {
    event = fromBinary(InvalidationEventSchema, deadLetter.original);
  } catch (err) {
    return refuse(deadLetter, `original is not a decodable InvalidationEvent: ${(err as Error).message}`);
  }
  // Arbitrary bytes can decode as an empty message; only a real event is worth publishing.
  if (event.id === '') return refuse(deadLetter, 'original has no event id: not an InvalidationEvent', event);
  if (
    event.operation !== Operation.HEARTBEAT &&
    event.keys.length + event.tags.length + event.versions.length + event.patterns.length === 0
  ) {
    return refuse(deadLetter, 'original holds no cache operation', event);
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

export function deadLetterEntry(
  region: string,
  view: DeadLetterView,
  replayed: boolean,
): MessageInitShape<typeof DeadLetterEntrySchema> {
  return {
    region,
    partition: view.partition,
    offset: view.offset,
    kafkaTime: timestampFromDate(view.kafkaTime),
    deadLetter: view.deadLetter,
    event: view.event,
    replayable: view.replayable,
    notReplayableReason: view.notReplayableReason,
    replayed,
  };
}

function failedAt(deadLetter: DeadLetter | undefined, kafkaTime: Date): Date {
  return deadLetter?.failedTime ? timestampDate(deadLetter.failedTime) : kafkaTime;
}
