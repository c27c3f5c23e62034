/**
 * PostgreSQL LSNs as the fabric passes them between packages: "X/Y" text (what
 * pg_current_wal_lsn() prints and events carry) and 16 hex digits (how Redis stores them, so
 * that string order is numeric order, in Lua too). Read-your-writes compares a commit token
 * with a region's applied watermark in the primary's LSN space.
 */
const LSN = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/;

export const isLsn = (text: string): boolean => LSN.test(text);

export function lsnToBigInt(lsn: string): bigint {
  const [hi = '0', lo = '0'] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

export function bigIntToLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

export const compareLsn = (a: string, b: string): number => {
  const d = lsnToBigInt(a) - lsnToBigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};

/** "X/Y" as 16 hex digits. */
export const lsnToHex16 = (lsn: string): string => lsnToBigInt(lsn).toString(16).padStart(16, '0');

/** 16 hex digits back to "X/Y"; undefined for anything else. */
export function hex16ToLsn(text: string | null | undefined): string | undefined {
  if (typeof text !== 'string' || !/^[0-9a-f]{16}$/.test(text)) return undefined;
  return bigIntToLsn(BigInt(`0x${text}`));
}
