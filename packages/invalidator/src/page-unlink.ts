import { isUnknownScript, leaseKey, type RedisClient, staleKey } from '@fabric/sdk';
import type { ApplyTally } from './apply-tally.js';
import { revokeLeasesCommand, tombstoneLeases } from './lease-revoke.js';
import { groupBySlot } from './slot.js';

/**
 * Deletes one page of keys (tag members, pattern matches, fills in flight) now: their leases
 * revoked first (see planCommands for why first), then the values and their stale copies, a
 * pipeline per slot (a key and its companions share one), so a page is all that is ever held
 * in memory. Throws the first failure; what was deleted before it stays deleted, which is
 * harmless, and the retried event finds the rest.
 */
export async function unlinkPage(
  redis: RedisClient,
  keys: readonly string[],
  slotOf: (key: string) => number,
  tally: ApplyTally,
  fillTombstoneMs = 0,
): Promise<void> {
  if (keys.length === 0) return;
  const groups = groupBySlot([...new Set(keys)], (k) => k, slotOf);
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const leases = group.map(leaseKey);
      const deletes = [
        ['unlink', ...group],
        ['unlink', ...group.map(staleKey)],
      ];
      let replies = (await redis.pipeline([revokeLeasesCommand(leases, fillTombstoneMs), ...deletes]).exec()) ?? [];
      if (isUnknownScript(replies[0]?.[0])) {
        // The server lost the script (restart, SCRIPT FLUSH): revoke by EVAL, then delete
        // again, so the values still go after their leases.
        const revoked = await tombstoneLeases.run(redis, leases, [fillTombstoneMs]);
        replies = [[null, revoked], ...((await redis.pipeline(deletes).exec()) ?? [])];
      }
      const [revoked, values, stale] = replies;
      for (const reply of [revoked, values, stale])
        if (!reply || reply[0]) throw reply?.[0] ?? new Error('no reply from Redis');
      tally.add('leasesRevoked', Number(revoked![1]));
      tally.add('keysUnlinked', Number(values![1]));
      tally.add('staleDropped', Number(stale![1]));
    }),
  );
}
