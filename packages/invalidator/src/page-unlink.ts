import { leaseKey, type RedisClient } from '@fabric/sdk';
import type { ApplyTally } from './apply-tally.js';
import { groupBySlot } from './slot.js';

/**
 * Deletes one page of keys (tag members, pattern matches) and their leases now, a pipeline
 * per slot (a key and its lease share one), so a page is all that is ever held in memory.
 * Throws the first failure; what was deleted before it stays deleted, which is harmless,
 * and the retried event finds the rest.
 */
export async function unlinkPage(
  redis: RedisClient,
  keys: readonly string[],
  slotOf: (key: string) => number,
  tally: ApplyTally,
): Promise<void> {
  if (keys.length === 0) return;
  const groups = groupBySlot([...new Set(keys)], (k) => k, slotOf);
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const replies =
        (await redis
          .pipeline([
            ['unlink', ...group],
            ['unlink', ...group.map(leaseKey)],
          ])
          .exec()) ?? [];
      const [values, leases] = replies;
      for (const reply of [values, leases])
        if (!reply || reply[0]) throw reply?.[0] ?? new Error('no reply from Redis');
      tally.add('keysUnlinked', Number(values![1]));
      tally.add('leasesRevoked', Number(leases![1]));
    }),
  );
}
