/**
 * Byte limits both sides of a Kafka topic must agree on. The broker refuses a record batch
 * (all records of one partition in one produce request) above its `message.max.bytes`,
 * 1,048,588 bytes by default and in the sandbox; such a refusal comes back on every
 * retry. So every producer of the fabric cuts its own items below these limits first: an
 * event too large is split into parts, a dead letter too large keeps a reference instead
 * of its body, a batch too large is sent in several requests.
 */

/** Kafka's default `message.max.bytes`, which the sandbox broker keeps. */
export const BROKER_MESSAGE_MAX_BYTES = 1_048_588;

/**
 * What one record costs on the wire beyond its key, value and headers, at most (record
 * length, attributes, timestamp and offset deltas as varints, header counts): a batch's
 * accounting adds it per record, so many small records cannot sum past the limit.
 */
export const RECORD_OVERHEAD_BYTES = 32;

/** A record batch's own header (base offset, length, CRC, producer id and epoch, ...). */
export const BATCH_OVERHEAD_BYTES = 64;

export interface ByteLimits {
  /**
   * One produce request's records, all partitions together: at most this much, so no
   * partition's batch can exceed the broker's `message.max.bytes` either.
   */
  batchBytes: number;
  /** One invalidation event, encoded: a larger one is split into parts of the same change. */
  eventBytes: number;
  /** One key, tag, version key or pattern: a larger one cannot be split and is dead-lettered. */
  keyBytes: number;
  /** One dead letter, encoded: above it the row body (or original event) is left out, a reference kept. */
  deadLetterBytes: number;
}

/**
 * Defaults with room below the broker's limit: an event of `eventBytes` with a record key
 * of `keyBytes` (its first cache key) still fits one batch, and so does a dead letter
 * that carries such an event as its original.
 */
export const DEFAULT_BYTE_LIMITS: Readonly<ByteLimits> = Object.freeze({
  batchBytes: 900 * 1024,
  eventBytes: 512 * 1024,
  keyBytes: 64 * 1024,
  deadLetterBytes: 640 * 1024,
});

/**
 * What is wrong with a set of limits, naming the field, or undefined. A limit that lets
 * one item exceed a batch would bring back the refusal the limits exist to prevent.
 */
export function byteLimitsProblem(limits: ByteLimits, brokerMax = BROKER_MESSAGE_MAX_BYTES): string | undefined {
  const batch = limits.batchBytes - BATCH_OVERHEAD_BYTES - RECORD_OVERHEAD_BYTES;
  if (limits.batchBytes > brokerMax - BATCH_OVERHEAD_BYTES)
    return `batchBytes ${limits.batchBytes} must stay below the broker's message.max.bytes (${brokerMax}) with room for the batch header`;
  if (limits.keyBytes >= limits.eventBytes / 2)
    return `keyBytes ${limits.keyBytes} must be under half of eventBytes ${limits.eventBytes}, so an event always holds at least one key`;
  if (limits.eventBytes + limits.keyBytes > batch)
    return `eventBytes ${limits.eventBytes} plus keyBytes ${limits.keyBytes} (the record key) must fit batchBytes ${limits.batchBytes}`;
  if (limits.deadLetterBytes + limits.keyBytes > batch)
    return `deadLetterBytes ${limits.deadLetterBytes} plus keyBytes ${limits.keyBytes} must fit batchBytes ${limits.batchBytes}`;
  return undefined;
}

/** What one record weighs against `batchBytes`. */
export function recordBytes(record: { key?: string | null; value: Uint8Array | null; headerBytes?: number }): number {
  return (
    RECORD_OVERHEAD_BYTES +
    (record.key ? Buffer.byteLength(record.key) : 0) +
    (record.value?.byteLength ?? 0) +
    (record.headerBytes ?? 0)
  );
}

/**
 * Cuts `items` (in order) into runs of at most `maxBytes` each by `bytesOf`; an item larger
 * than `maxBytes` goes alone, for the broker to judge (callers bound items first).
 */
export function chunkByBytes<T>(items: readonly T[], bytesOf: (item: T) => number, maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = BATCH_OVERHEAD_BYTES;
  for (const item of items) {
    const size = bytesOf(item);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = BATCH_OVERHEAD_BYTES;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
