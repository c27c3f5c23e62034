import { tagKey } from '@fabric/sdk';
import type { Redis } from 'ioredis';
import type { ApplyTally } from './apply-tally.js';
import type { Command } from './command-plan.js';
import { expandTagPage } from './tag-script.js';
import type { TopologyStrategy } from './topology.js';

/**
 * One server holds every key, so the whole batch is one pipeline, and a tag's page script
 * deletes its members, their companions and their place in the set in one step.
 */
export class StandaloneTopology implements TopologyStrategy {
  constructor(
    private readonly redis: Redis,
    private readonly fillTombstoneMs = 0,
  ) {}

  slotOf(): number {
    return 0;
  }

  async expandTag(tag: string, pageSize: number, tally: ApplyTally): Promise<void> {
    let cursor = '0';
    do {
      const [next, values, leases, , stale] = (await expandTagPage.run(
        this.redis,
        [tagKey(tag)],
        [cursor, pageSize, this.fillTombstoneMs],
      )) as [string, number, number, number, number];
      tally.add('keysUnlinked', values);
      tally.add('leasesRevoked', leases);
      tally.add('staleDropped', stale);
      tally.add('pagesScanned');
      cursor = next;
    } while (cursor !== '0');
  }

  pipelines(commands: Command[]): Command[][] {
    return [commands];
  }

  masters(): Redis[] {
    return [this.redis];
  }
}
