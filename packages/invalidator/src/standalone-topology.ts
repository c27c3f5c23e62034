import type { Redis } from 'ioredis';
import { type Command, tagScriptCommand } from './command-plan.js';
import { scanNodes, type TopologyStrategy } from './topology.js';

/**
 * One server holds every key, so the whole batch is one pipeline: the tag scripts delete
 * their sets, members and leases in the same round trip as the UNLINKs and INCRs.
 */
export class StandaloneTopology implements TopologyStrategy {
  constructor(
    private readonly redis: Redis,
    private readonly scanCount: number,
  ) {}

  slotOf(): number {
    return 0;
  }

  async expandTags(index: number, tags: readonly string[]): Promise<Command[]> {
    return tags.map((tag) => tagScriptCommand(tag, index));
  }

  pipelines(commands: Command[]): Command[][] {
    return [commands];
  }

  masters(): Redis[] {
    return [this.redis];
  }

  scan(pattern: string): Promise<Set<string>> {
    return scanNodes([this.redis], pattern, this.scanCount);
  }
}
