import { hashTagOf } from '@fabric/sdk';

/** Redis Cluster's slot count; a key's slot is CRC16(key or its hash tag) mod 16384. */
export const SLOTS = 16384;

// CRC16-CCITT (XMODEM: poly 0x1021, init 0), the variant Redis Cluster specifies.
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** Redis hashes the bytes of the key, so UTF-8 encode before hashing. */
export function keySlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key) ?? key, 'utf8')) % SLOTS;
}

/**
 * Groups items by the slot of their key: a multi-key command or a pipeline sent to a
 * Redis Cluster must stay within one slot.
 */
export function groupBySlot<T>(
  items: Iterable<T>,
  keyOf: (item: T) => string,
  slotOf: (key: string) => number = keySlot,
): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = slotOf(keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return groups;
}
