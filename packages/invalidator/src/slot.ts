import calculateSlot from 'cluster-key-slot';

/** Redis Cluster's slot count; a key's slot is CRC16(key or its hash tag) mod 16384. */
export const SLOTS = 16384;

/**
 * The slot of a key, computed by the function ioredis itself routes with, so a pipeline
 * grouped here is never refused by ioredis as spanning slots. It hashes the UTF-8 bytes of
 * the hash tag (the text between the first `{` and the next `}`) or of the whole key.
 *
 * One corner differs from the server: after an empty first tag (`foo{}{bar}`) it hashes
 * `{bar` where Redis hashes the whole key. Such keys have a `}` but no hash tag, which the
 * SDK's layout already cannot co-locate with their lease (see layout.ts), and ioredis
 * follows the server's MOVED for them either way.
 */
export function keySlot(key: string): number {
  return calculateSlot(key);
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
  return groupBySlotOf(items, (item) => slotOf(keyOf(item)));
}

/** Groups items whose slot is already known (a planned command carries its own). */
export function groupBySlotOf<T>(items: Iterable<T>, slotOf: (item: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = slotOf(item);
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return groups;
}
