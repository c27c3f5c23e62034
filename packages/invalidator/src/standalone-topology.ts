import { tagKey } from '@fabric/sdk';
import type { Redis } from 'ioredis';
import type { ApplyTally } from './apply-tally.js';
import { type Command, countTagPage, type TagPageReply } from './command-plan.js';
import { expandTagPage } from './tag-script.js';
import type { TopologyStrategy } from './topology.js';

/**
 * One server holds every key, so the whole batch is one pipeline, and a tag's page script
 * deletes its members, their companions and their place in the set in one step: the first
 * page of every tag goes in that pipeline, the rest of a larger tag page by page after it.
 */
export class StandaloneTopology implements TopologyStrategy {
  constructor(
    private readonly redis: Redis,
    private readonly fillTombstoneMs = 0,
  ) {}

  readonly inlineTags = true;

  slotOf(): number {
    return 0;
  }

  async expandTag(tag: string, pageSize: number, tally: ApplyTally, from = '0'): Promise<void> {
    let cursor = from;
    do {
      const page = (await expandTagPage.run(
        this.redis,
        [tagKey(tag)],
        [cursor, pageSize, this.fillTombstoneMs],
      )) as TagPageReply;
      cursor = countTagPage(tally, page);
    } while (cursor !== '0');
  }

  pipelines(commands: Command[]): Command[][] {
    return [commands];
  }

  masters(): Redis[] {
    return [this.redis];
  }
}
