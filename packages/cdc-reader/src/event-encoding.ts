/**
 * The wire form of an InvalidationEvent, written by hand for the reader's hot path: the
 * reflective `toBinary` walked the schema for every change and was a large share of the
 * reader's CPU during a catch-up. The schema stays in invalidation.proto (and
 * @bufbuild/protobuf stays its owner): this writes exactly what `toBinary` writes, field
 * by field in number order with proto3's implicit presence, which
 * test/event-encoding.test.ts checks byte for byte. Anything this does not cover (a resync,
 * unknown fields kept from a decode) goes through `toBinary` unchanged.
 */
import { type InvalidationEvent, InvalidationEventSchema, toBinary } from '@fabric/proto';

type Timestamp = NonNullable<InvalidationEvent['emittedTime']>;

// Field tags: (number << 3) | wire type, 2 = length-delimited, 0 = varint.
const ID = 0x0a;
const REGION = 0x12;
const SOURCE_LSN = 0x1a;
const PRIMARY_COMMIT_TIME = 0x22;
const TABLE = 0x2a;
const OPERATION = 0x30;
const KEYS = 0x3a;
const TAGS = 0x42;
const VERSIONS = 0x4a;
const PATTERNS = 0x52;
const EMITTED_TIME = 0x5a;
const FORCE = 0x68;
const PRIMARY_LSN = 0x72;
const SECONDS = 0x08;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const NANOS = 0x10;

/** Bytes of an unsigned varint below 2^53 (what every length and non-negative count here is). */
function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** An int64/int32 field value as protobuf writes it: negative numbers take ten bytes (two's complement). */
function signedVarintSize(v: bigint | number): number {
  if (typeof v === 'number') return v < 0 ? 10 : varintSize(v);
  if (v < 0n) return 10;
  return v <= MAX_SAFE ? varintSize(Number(v)) : bigVarintSize(v);
}

function bigVarintSize(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

/**
 * UTF-8 bytes of a string. The fabric's names are ASCII almost always, and counting them
 * here is cheaper than a call into Buffer.byteLength per string (nine per event).
 */
function utf8Bytes(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s);
  return s.length;
}

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  varint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** Two's complement 64-bit, as protobuf writes int64 (and a negative int32). */
  signed(v: bigint | number): void {
    // Seconds since the epoch are a bigint in the schema but a safe integer in practice:
    // written as a number, without BigInt arithmetic per event.
    const small = typeof v === 'number' ? v >= 0 : v >= 0n && v <= MAX_SAFE;
    if (small) {
      this.varint(Number(v));
      return;
    }
    let u = BigInt.asUintN(64, BigInt(v));
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  /** A length-delimited string field; `bytes` is its UTF-8 length (equal to its length when ASCII). */
  string(tag: number, s: string, bytes: number): void {
    this.byte(tag);
    this.varint(bytes);
    if (bytes === s.length) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
      this.pos = pos;
    } else this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
  }

  time(tag: number, t: Timestamp, bodySize: number): void {
    this.byte(tag);
    this.varint(bodySize);
    if (t.seconds !== 0n) {
      this.byte(SECONDS);
      this.signed(t.seconds);
    }
    if (t.nanos !== 0) {
      this.byte(NANOS);
      this.signed(t.nanos);
    }
  }
}

const timestampBodySize = (t: Timestamp): number =>
  (t.seconds !== 0n ? 1 + signedVarintSize(t.seconds) : 0) + (t.nanos !== 0 ? 1 + signedVarintSize(t.nanos) : 0);

/** True when the hand encoding covers the event: no resync, no unknown fields, on it or its times. */
function covered(event: InvalidationEvent): boolean {
  const unknown = (m: { $unknown?: unknown[] } | undefined) => m?.$unknown !== undefined && m.$unknown.length > 0;
  return (
    event.resync === undefined && !unknown(event) && !unknown(event.primaryCommitTime) && !unknown(event.emittedTime)
  );
}

/** A non-empty singular string field's size; an empty one is not written (proto3 implicit presence). */
const fieldSize = (bytes: number): number => (bytes > 0 ? 1 + varintSize(bytes) + bytes : 0);

/** The size of a repeated string field, and each element's UTF-8 length into `into`. */
function listSize(list: readonly string[], into: number[]): number {
  let size = 0;
  for (const s of list) {
    const bytes = utf8Bytes(s);
    into.push(bytes);
    size += 1 + varintSize(bytes) + bytes;
  }
  return size;
}

function writeList(w: Writer, tag: number, list: readonly string[], lengths: readonly number[], from: number): number {
  for (let i = 0; i < list.length; i++) w.string(tag, list[i]!, lengths[from + i]!);
  return from + list.length;
}

/** The event's protobuf bytes, equal to `toBinary(InvalidationEventSchema, event)`. */
export function encodeInvalidationEvent(event: InvalidationEvent): Uint8Array {
  if (!covered(event)) return toBinary(InvalidationEventSchema, event);
  const idBytes = utf8Bytes(event.id);
  const regionBytes = utf8Bytes(event.region);
  const sourceLsnBytes = utf8Bytes(event.sourceLsn);
  const tableBytes = utf8Bytes(event.table);
  const primaryLsnBytes = utf8Bytes(event.primaryLsn);
  // One array for every element of the four lists, in field order.
  const lengths: number[] = [];
  const commitTime = event.primaryCommitTime;
  const emitted = event.emittedTime;
  const commitSize = commitTime ? timestampBodySize(commitTime) : 0;
  const emittedSize = emitted ? timestampBodySize(emitted) : 0;

  let size =
    fieldSize(idBytes) +
    fieldSize(regionBytes) +
    fieldSize(sourceLsnBytes) +
    fieldSize(tableBytes) +
    fieldSize(primaryLsnBytes);
  size += listSize(event.keys, lengths) + listSize(event.tags, lengths);
  size += listSize(event.versions, lengths) + listSize(event.patterns, lengths);
  if (commitTime) size += 1 + varintSize(commitSize) + commitSize;
  if (event.operation !== 0) size += 1 + signedVarintSize(event.operation);
  if (emitted) size += 1 + varintSize(emittedSize) + emittedSize;
  if (event.force) size += 2;

  const w = new Writer(Buffer.allocUnsafe(size));
  if (idBytes > 0) w.string(ID, event.id, idBytes);
  if (regionBytes > 0) w.string(REGION, event.region, regionBytes);
  if (sourceLsnBytes > 0) w.string(SOURCE_LSN, event.sourceLsn, sourceLsnBytes);
  if (commitTime) w.time(PRIMARY_COMMIT_TIME, commitTime, commitSize);
  if (tableBytes > 0) w.string(TABLE, event.table, tableBytes);
  if (event.operation !== 0) {
    w.byte(OPERATION);
    w.signed(event.operation);
  }
  let at = writeList(w, KEYS, event.keys, lengths, 0);
  at = writeList(w, TAGS, event.tags, lengths, at);
  at = writeList(w, VERSIONS, event.versions, lengths, at);
  writeList(w, PATTERNS, event.patterns, lengths, at);
  if (emitted) w.time(EMITTED_TIME, emitted, emittedSize);
  if (event.force) {
    w.byte(FORCE);
    w.byte(1);
  }
  if (primaryLsnBytes > 0) w.string(PRIMARY_LSN, event.primaryLsn, primaryLsnBytes);
  return w.buf;
}
