import { tagKey } from '@fabric/sdk';
import type { Cluster, Redis } from 'ioredis';
import type { ApplyTally } from './apply-tally.js';
import type { Command } from './command-plan.js';
import { unlinkPage } from './page-unlink.js';
import { groupBySlotOf, keySlot } from './slot.js';
import type { TopologyStrategy } from './topology.js';

/**
 * Keys spread over slots and masters. A script may only touch keys of its own slot, and a
 * tag's members live in other slots than its set, so a tag is expanded by the client, a
 * page at a time: read a page of members (SSCAN), delete them and their leases slot by
 * slot, and only then remove them from the set. A reply lost anywhere leaves the members
 * not yet deleted in the set, so the retried event finds them; the set is never emptied
 * first. ioredis sends a cluster pipeline to one node and refuses keys of several slots, so
 * there is one pipeline per slot.
 */
export class ClusterTopology implements TopologyStrategy {
  constructor(
    private readonly cluster: Cluster,
    private readonly fillTombstoneMs = 0,
  ) {}

  readonly inlineTags = false;

  slotOf(key: string): number {
    return keySlot(key);
  }

  async expandTag(tag: string, pageSize: number, tally: ApplyTally, from = '0'): Promise<void> {
    const set = tagKey(tag);
    let cursor = from;
    do {
      const [next, members] = await this.cluster.sscan(set, cursor, 'COUNT', pageSize);
      await unlinkPage(this.cluster, members, keySlot, tally, this.fillTombstoneMs);
      if (members.length > 0) await this.cluster.srem(set, ...members);
      tally.add('pagesScanned');
      cursor = next;
    } while (cursor !== '0');
  }

  pipelines(commands: Command[]): Command[][] {
    return [...groupBySlotOf(commands, (c) => c.slot).values()];
  }

  masters(): Redis[] {
    return this.cluster.nodes('master');
  }
}
