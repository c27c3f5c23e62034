// PostgreSQL LSNs ("16/B374D848") as comparable numbers. Pure.

export function lsnToBig(lsn: string): bigint {
  const [hi = '0', lo = '0'] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** Whether `lsn` is at or past `target`. */
export const lsnReached = (lsn: string | undefined, target: string): boolean =>
  lsn !== undefined && lsn !== '' && lsnToBig(lsn) >= lsnToBig(target);
