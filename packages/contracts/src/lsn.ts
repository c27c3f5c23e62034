/**
 * PostgreSQL LSNs as the fabric passes them between packages, written once here: "X/Y" text
 * as PostgreSQL prints it (upper-case hex, the high and low 32 bits of the 64-bit WAL
 * position, no zero padding: "0/16B3748"), what the reader decodes and events carry; and 16
 * hex digits, how Redis stores them, so that string order is numeric order, in Lua too.
 * Read-your-writes compares a commit token with a region's applied watermark in the
 * primary's LSN space.
 *
 * Comparisons work on the two halves as numbers (each fits a double exactly), read digit
 * by digit, without a BigInt, a regular expression or an allocation: the reader compares
 * an LSN per message it receives, the invalidator one per event it applies.
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

const invalid = (lsn: unknown): TypeError =>
  new TypeError(`invalid LSN ${JSON.stringify(lsn)} (expected "X/Y" with up to 8 hex digits each)`);

/** Where the slash of an LSN is, with 1 to 8 characters on either side; throws a TypeError otherwise. */
function slashOf(lsn: Lsn): number {
  const slash = typeof lsn === 'string' ? lsn.indexOf('/') : -1;
  if (slash < 1 || slash > 8 || lsn.length - slash - 1 < 1 || lsn.length - slash - 1 > 8) throw invalid(lsn);
  return slash;
}

/** The hex digits of lsn[from, to) as a number; throws a TypeError at anything else. */
function half(lsn: Lsn, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = lsn.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (digit < 0) throw invalid(lsn);
    value = value * 16 + digit;
  }
  return value;
}

/** The high and low 32 bits of an LSN; throws a TypeError for anything else. */
function halves(lsn: Lsn): [high: number, low: number] {
  const slash = slashOf(lsn);
  return [half(lsn, 0, slash), half(lsn, slash + 1, lsn.length)];
}

export function lsnToBigInt(lsn: Lsn): bigint {
  const [high, low] = halves(lsn);
  return (BigInt(high) << 32n) | BigInt(low);
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
  const [high, low] = halves(lsn);
  return lsnFromHalves(high, low);
}

/** -1, 0 or 1, like a sort comparator. */
export function compareLsn(a: Lsn, b: Lsn): -1 | 0 | 1 {
  const sa = slashOf(a);
  const sb = slashOf(b);
  const ah = half(a, 0, sa);
  const al = half(a, sa + 1, a.length);
  const bh = half(b, 0, sb);
  const bl = half(b, sb + 1, b.length);
  if (ah !== bh) return ah < bh ? -1 : 1;
  return al < bl ? -1 : al > bl ? 1 : 0;
}

export function maxLsn(a: Lsn, b: Lsn): Lsn {
  return compareLsn(a, b) >= 0 ? a : b;
}

/** The higher of two LSNs, the first possibly absent. */
export function laterLsn(a: Lsn | undefined, b: Lsn): Lsn {
  return a === undefined || compareLsn(b, a) > 0 ? b : a;
}

/** Whether `lsn` (possibly absent or empty: nothing yet) is at or past `target`. */
export function lsnReached(lsn: Lsn | undefined, target: Lsn): boolean {
  return lsn !== undefined && lsn !== '' && compareLsn(lsn, target) >= 0;
}

/** Bytes between two positions (a - b), e.g. for lag; negative when a is behind b. */
export function lsnDiff(a: Lsn, b: Lsn): bigint {
  return lsnToBigInt(a) - lsnToBigInt(b);
}

/** "X/Y" as 16 hex digits. */
export function lsnToHex16(lsn: Lsn): string {
  const [high, low] = halves(lsn);
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/** 16 hex digits back to "X/Y"; undefined for anything else. */
export function hex16ToLsn(text: string | null | undefined): Lsn | undefined {
  if (typeof text !== 'string' || !/^[0-9a-f]{16}$/.test(text)) return undefined;
  return lsnFromHalves(Number.parseInt(text.slice(0, 8), 16), Number.parseInt(text.slice(8), 16));
}
