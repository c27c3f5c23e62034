import { tagKey } from '@fabric/sdk';
import type { Cluster, Redis } from 'ioredis';
import type { ApplyTally } from './apply-tally.js';
import type { Command } from './command-plan.js';
import { groupBySlotOf, keySlot } from './slot.js';
import { expandTag } from './tag-script.js';
import { scanNodes, type TopologyStrategy } from './topology.js';

/**
 * Keys spread over slots and masters. A script may only touch keys of its own slot, so a
 * tag's script pops the set and returns the members, which the batch's pipelines then
 * delete slot by slot; ioredis sends a cluster pipeline to one node and refuses keys of
 * several slots, so there is one pipeline per slot.
 */
export class ClusterTopology implements TopologyStrategy {
  constructor(
    private readonly cluster: Cluster,
    private readonly scanCount: number,
  ) {}

  slotOf(key: string): number {
    return keySlot(key);
  }

  async expandTags(index: number, tags: readonly string[], tally: ApplyTally): Promise<Command[]> {
    for (const tag of tags) {
      const [values, leases, ...members] = (await expandTag.run(this.cluster, [tagKey(tag)], ['0'])) as [
        number,
        number,
        ...string[],
      ];
      tally.add('keysUnlinked', values);
      tally.add('leasesRevoked', leases);
      tally.addKeys(index, members);
      if (members.length > 0) tally.pop(index, { tag, members });
      tally.add('tagsExpanded');
    }
    return [];
  }

  pipelines(commands: Command[]): Command[][] {
    return [...groupBySlotOf(commands, (c) => c.slot).values()];
  }

  masters(): Redis[] {
    return this.cluster.nodes('master');
  }

  /** Every master holds a share of the keyspace, so each is scanned. */
  scan(pattern: string): Promise<Set<string>> {
    return scanNodes(this.cluster.nodes('master'), pattern, this.scanCount);
  }
}
