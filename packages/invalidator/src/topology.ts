import type { Redis } from 'ioredis';
import type { ApplyTally } from './apply-tally.js';
import type { Command } from './command-plan.js';

/**
 * What differs between a standalone Redis and a Redis Cluster when applying a batch; the
 * applier decides which one once, from the client, and never asks again.
 */
export interface TopologyStrategy {
  /** The slot a key's commands are grouped under. */
  slotOf(key: string): number;
  /**
   * Expands one event's tags. Where a script may also delete the members, returns the script
   * calls to send in the batch's pipeline. Otherwise expands them now, adding the members to
   * the event's keys in the tally, and returns none.
   */
  expandTags(index: number, tags: readonly string[], tally: ApplyTally): Promise<Command[]>;
  /** Splits a batch's commands into the pipelines sent, concurrently, to the server(s). */
  pipelines(commands: Command[]): Command[][];
  /** The servers that hold a share of the keyspace: what a paged SCAN walks. */
  masters(): Redis[];
  /** Every key matching `pattern`, wherever it lives. */
  scan(pattern: string): Promise<Set<string>>;
}

/** SCAN, never KEYS: KEYS blocks the server for the whole keyspace. */
export async function scanNodes(nodes: readonly Redis[], pattern: string, count: number): Promise<Set<string>> {
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      for (const key of keys) found.add(key);
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
}
