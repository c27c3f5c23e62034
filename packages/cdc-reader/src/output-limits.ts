import { type ByteLimits, eventKey } from '@fabric/contracts';
import {
  create,
  type DeadLetter,
  DeadLetterSchema,
  fromBinary,
  type InvalidationEvent,
  InvalidationEventSchema,
  timestampFromDate,
  toBinary,
} from '@fabric/proto';
import type { Output } from './outputs.js';

const FIELDS = ['keys', 'tags', 'versions', 'patterns'] as const;
type Field = (typeof FIELDS)[number];
type Entries = Record<Field, string[]>;

/** Room kept in each part for the "#<part>" suffix of its id. */
const PART_ID_BYTES = 8;
/** How much of an oversized key, or of a left-out value, a dead letter quotes. */
const QUOTE_CHARS = 256;
const REASON_CHARS = 4096;

/**
 * Keeps what the reader publishes inside the byte limits, so the broker never gets a record
 * it refuses (a refusal comes back on every retry and would stall the slot):
 *
 * - An event above `eventBytes` becomes parts of the same change, each with some of its
 *   keys, tags, version keys and patterns. A part's id is the event's id with "#<part>"
 *   (1-based) appended, stable on replay like the id itself; every part is an event of its
 *   own to the invalidator. All parts are queued before the commit's marker, so the slot is
 *   confirmed only once every part is acknowledged.
 * - One entry above `keyBytes` fits no part: it becomes a dead letter quoting its start and
 *   size; the rest of the event is still published.
 * - A dead letter above `deadLetterBytes` keeps a reference (table, LSN, primary key, sizes)
 *   and leaves the row body out, marked `truncated`.
 *
 * Pure, like the mapper: every rule here is unit-tested without a broker.
 */
export interface LimitsObserver {
  /** An event was published as `parts` parts. */
  split?(event: InvalidationEvent, parts: number): void;
  /** A dead letter of `bytes` bytes was cut to its reference. */
  truncated?(deadLetter: DeadLetter, bytes: number): void;
}

export class OutputLimits {
  constructor(
    private readonly limits: ByteLimits,
    private readonly region: string,
    private readonly now: () => Date = () => new Date(),
    private readonly observer: LimitsObserver = {},
  ) {}

  bound(out: Output): Output[] {
    switch (out.kind) {
      case 'event':
        return this.boundEvent(out);
      case 'dead-letter':
        return [this.boundDeadLetter(out)];
      default:
        return [out];
    }
  }

  private boundEvent(out: Extract<Output, { kind: 'event' }>): Output[] {
    const { event } = out;
    // Nearly every event is far below both limits: proven from string lengths alone (at most
    // three UTF-8 bytes per UTF-16 unit) without encoding a shell, which cost a full
    // create + toBinary per change.
    if (surelyWithin(event, this.limits)) return [out];
    const shell = create(InvalidationEventSchema, { ...event, keys: [], tags: [], versions: [], patterns: [] });
    const base = toBinary(InvalidationEventSchema, shell).byteLength + PART_ID_BYTES;
    const oversized: Array<{ field: Field; index: number; bytes: number; start: string }> = [];
    const parts: Entries[] = [];
    let current = emptyEntries();
    let used = base;
    let count = 0;
    for (const field of FIELDS) {
      for (const [index, value] of event[field].entries()) {
        const bytes = Buffer.byteLength(value);
        if (bytes > this.limits.keyBytes) {
          oversized.push({ field, index, bytes, start: value.slice(0, QUOTE_CHARS) });
          continue;
        }
        // A repeated string on the wire: one tag byte, the length as a varint, the bytes.
        const cost = 1 + varintBytes(bytes) + bytes;
        if (count > 0 && used + cost > this.limits.eventBytes) {
          parts.push(current);
          current = emptyEntries();
          used = base;
          count = 0;
        }
        current[field].push(value);
        used += cost;
        count++;
      }
    }
    if (count > 0) parts.push(current);
    if (oversized.length === 0 && parts.length <= 1) return [out];
    if (parts.length > 1) this.observer.split?.(event, parts.length);

    const events = parts.map((entries, i): Output => {
      const part = create(InvalidationEventSchema, {
        ...event,
        ...entries,
        id: parts.length > 1 ? `${event.id}#${i + 1}` : event.id,
      });
      return { kind: 'event', key: eventKey(part), event: part };
    });
    if (oversized.length === 0) return events;
    const [first] = oversized;
    const reason =
      `${oversized.length} ${oversized.length === 1 ? 'entry is' : 'entries are'} above the key limit of ` +
      `${this.limits.keyBytes} bytes (--max-key-bytes) and cannot be split: ${first!.field}[${first!.index}] ` +
      `is ${first!.bytes} bytes; ${oversized.length === 1 ? 'it is' : 'they are'} not invalidated`;
    const deadLetter: Output = {
      kind: 'dead-letter',
      key: `${event.table || 'message'}:oversized-key`,
      deadLetter: create(DeadLetterSchema, {
        region: this.region,
        component: 'cdc-reader',
        reason,
        attempts: 1,
        failedTime: timestampFromDate(this.now()),
        change: JSON.stringify({ kind: 'oversized-keys', eventId: event.id, entries: oversized }),
        table: event.table,
        sourceLsn: event.sourceLsn,
      }),
    };
    return [...events, this.boundDeadLetter(deadLetter)];
  }

  private boundDeadLetter(out: Extract<Output, { kind: 'dead-letter' }>): Extract<Output, { kind: 'dead-letter' }> {
    const letter = out.deadLetter;
    const bytes = toBinary(DeadLetterSchema, letter).byteLength;
    if (bytes <= this.limits.deadLetterBytes) return out;
    this.observer.truncated?.(letter, bytes);
    const reference = {
      truncated: true,
      deadLetterBytes: bytes,
      changeBytes: Buffer.byteLength(letter.change),
      table: letter.table,
      sourceLsn: letter.sourceLsn,
      ...primaryKeyOf(letter.change),
    };
    return {
      kind: 'dead-letter',
      key: out.key.slice(0, QUOTE_CHARS),
      deadLetter: create(DeadLetterSchema, {
        ...letter,
        reason:
          `${letter.reason.slice(0, REASON_CHARS)} (the change itself is left out: this dead letter was ` +
          `${bytes} bytes, above --max-dead-letter-bytes ${this.limits.deadLetterBytes})`,
        change: JSON.stringify(reference),
        // An original that large cannot be replayed through the same broker anyway.
        original: letter.original.byteLength > this.limits.deadLetterBytes / 2 ? new Uint8Array() : letter.original,
      }),
    };
  }
}

/** Room for every non-string byte of an event: tags, lengths, the operation, two timestamps, force. */
const EVENT_FIXED_BYTES = 128;

function surelyWithin(event: InvalidationEvent, limits: ByteLimits): boolean {
  if (event.resync !== undefined) return false;
  let units = event.id.length + event.region.length + event.sourceLsn.length + event.table.length;
  units += event.primaryLsn.length;
  let entries = 0;
  for (const field of FIELDS) {
    for (const value of event[field]) {
      if (value.length * 3 > limits.keyBytes) return false;
      units += value.length;
      entries++;
    }
  }
  // Each entry: a tag byte and a length varint no longer than keyBytes' own.
  const entryOverhead = 1 + varintBytes(limits.keyBytes);
  return EVENT_FIXED_BYTES + units * 3 + entries * entryOverhead + PART_ID_BYTES <= limits.eventBytes;
}

function emptyEntries(): Entries {
  return { keys: [], tags: [], versions: [], patterns: [] };
}

function varintBytes(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}

/**
 * The primary key of the row a dead letter's change was made from (its key columns, taken
 * from the new row, else the old one), each value quoted up to QUOTE_CHARS, so the row can
 * still be found when its body was left out.
 */
function primaryKeyOf(change: string): { primaryKey?: Record<string, unknown> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(change);
  } catch {
    return {};
  }
  const { keyColumns, newRow, oldRow } = (parsed ?? {}) as {
    keyColumns?: unknown;
    newRow?: Record<string, unknown>;
    oldRow?: Record<string, unknown>;
  };
  if (!Array.isArray(keyColumns) || keyColumns.length === 0) return {};
  const row = newRow ?? oldRow ?? {};
  const primaryKey: Record<string, unknown> = {};
  for (const column of keyColumns) {
    if (typeof column !== 'string') continue;
    const value = row[column];
    primaryKey[column] = typeof value === 'string' ? value.slice(0, QUOTE_CHARS) : (value ?? null);
  }
  return { primaryKey };
}

/** What one event weighs encoded (for tests and accounting). */
export function eventBytes(event: InvalidationEvent): number {
  return toBinary(InvalidationEventSchema, event).byteLength;
}

/**
 * The dead letter that stands in for a record the broker refused (smaller limits on the
 * broker or topic than the reader's): a reference to what was refused, its table and LSN
 * when the record can tell, never the record's own bytes.
 */
export function refusedDeadLetter(
  region: string,
  refused: { topic: string; key: string; value: Uint8Array },
  reason: string,
  deadLetterTopic: string,
  now: Date = new Date(),
  /**
   * An event this small was refused by a topic set below the broker's default, not for its
   * own size: it rides along as the original, so a replay delivers it once the topic is fixed.
   */
  maxOriginalBytes = 0,
): { topic: string; key: string; value: Uint8Array } {
  const source = refusedSource(refused, deadLetterTopic);
  const keepOriginal = refused.topic !== deadLetterTopic && refused.value.byteLength <= maxOriginalBytes;
  const deadLetter = create(DeadLetterSchema, {
    region,
    component: 'cdc-reader',
    reason: `${reason}: a record of ${refused.value.byteLength} bytes for ${refused.topic} (key ${refused.key.slice(0, QUOTE_CHARS)}); check the broker's and the topic's message.max.bytes against --max-batch-bytes`,
    attempts: 1,
    failedTime: timestampFromDate(now),
    change: JSON.stringify({
      truncated: true,
      refused: { topic: refused.topic, key: refused.key.slice(0, QUOTE_CHARS), bytes: refused.value.byteLength },
      ...(source.eventId ? { eventId: source.eventId } : {}),
    }),
    table: source.table,
    sourceLsn: source.sourceLsn,
    ...(keepOriginal ? { original: refused.value } : {}),
  });
  return {
    topic: deadLetterTopic,
    key: refused.key.slice(0, QUOTE_CHARS),
    value: toBinary(DeadLetterSchema, deadLetter),
  };
}

function refusedSource(
  refused: { topic: string; value: Uint8Array },
  deadLetterTopic: string,
): { table: string; sourceLsn: string; eventId?: string } {
  try {
    if (refused.topic === deadLetterTopic) {
      const letter = fromBinary(DeadLetterSchema, refused.value);
      return { table: letter.table, sourceLsn: letter.sourceLsn };
    }
    const event = fromBinary(InvalidationEventSchema, refused.value);
    return { table: event.table, sourceLsn: event.sourceLsn, eventId: event.id };
  } catch {
    return { table: '', sourceLsn: '' };
  }
}
