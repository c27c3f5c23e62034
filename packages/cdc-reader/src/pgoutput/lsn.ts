/**
 * Log sequence numbers in the form PostgreSQL prints them: "X/Y", upper-case hex, the high
 * and low 32 bits of the 64-bit WAL position, without zero padding ("0/16B3748").
 */
export type Lsn = string;

/** The invalid LSN. As a flush position in a standby status update PostgreSQL ignores it. */
export const ZERO_LSN: Lsn = '0/0';

const LSN_RE = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const U32 = 0xffffffffn;
const U64 = 0xffffffffffffffffn;

export function isLsn(value: unknown): value is Lsn {
  return typeof value === 'string' && LSN_RE.test(value);
}

export function lsnToBigInt(lsn: Lsn): bigint {
  const m = LSN_RE.exec(lsn);
  if (!m) throw new TypeError(`invalid LSN ${JSON.stringify(lsn)} (expected "X/Y" with up to 8 hex digits each)`);
  // Each half fits a double exactly: two small BigInts instead of parsing hex strings as BigInt.
  return (BigInt(Number.parseInt(m[1]!, 16)) << 32n) | BigInt(Number.parseInt(m[2]!, 16));
}

/** The LSN of a WAL position given as its two 32-bit halves (what the wire carries), without a BigInt. */
export function lsnFromHalves(high: number, low: number): Lsn {
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
}

export function bigIntToLsn(value: bigint): Lsn {
  if (value < 0n || value > U64) throw new RangeError(`LSN out of range: ${value}`);
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & U32).toString(16).toUpperCase()}`;
}

/** Canonical form of an LSN (upper case, no leading zeros), e.g. "0/000016b3" -> "0/16B3". */
export function normalizeLsn(lsn: Lsn): Lsn {
  return bigIntToLsn(lsnToBigInt(lsn));
}

/** -1, 0 or 1, like a sort comparator. */
export function compareLsn(a: Lsn, b: Lsn): -1 | 0 | 1 {
  const x = lsnToBigInt(a);
  const y = lsnToBigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function maxLsn(a: Lsn, b: Lsn): Lsn {
  return compareLsn(a, b) >= 0 ? a : b;
}

/** Bytes between two positions (a - b), e.g. for lag; negative when a is behind b. */
export function lsnDiff(a: Lsn, b: Lsn): bigint {
  return lsnToBigInt(a) - lsnToBigInt(b);
}

/** Reads a 64-bit big-endian WAL position from a buffer as an LSN string. */
export function readLsn(buf: Buffer, offset: number): Lsn {
  return lsnFromHalves(buf.readUInt32BE(offset), buf.readUInt32BE(offset + 4));
}
