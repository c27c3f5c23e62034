import { FILLING_KEY, type RedisClient } from '@fabric/sdk';
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
   * True when one script step can delete a page of a tag (every key on one server): the
   * tag's first page then rides in the batch's pipeline, and expandTag only goes on from
   * the cursor it answered.
   */
  readonly inlineTags: boolean;
  /**
   * Deletes one tag's members and their leases, a page (SSCAN COUNT pageSize) at a time
   * from `cursor` ('0': the start), each member before it leaves the set; counts what it
   * deleted and the pages into the tally. Throws the first failure: the members not yet
   * removed stay in the set for the retry.
   */
  expandTag(tag: string, pageSize: number, tally: ApplyTally, cursor?: string): Promise<void>;
  /** Splits a batch's commands into the pipelines sent, concurrently, to the server(s). */
  pipelines(commands: Command[]): Command[][];
  /** The servers that hold a share of the keyspace: what a paged SCAN walks. */
  masters(): Redis[];
}

/**
 * Every key matching `pattern` on `nodes`, a SCAN page at a time, handed to `onPage` before
 * the next page is read, so no more than a page of matches is ever held. SCAN, never KEYS:
 * KEYS blocks the server for the whole keyspace.
 */
export async function scanPages(
  nodes: readonly Redis[],
  pattern: string,
  count: number,
  onPage: (keys: string[]) => Promise<void>,
): Promise<void> {
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      await onPage(keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

/**
 * The fills in flight (the SDK's FILLING_KEY registry) whose key matches `pattern`, a ZSCAN
 * page at a time. MATCH is evaluated by Redis, so the glob is exactly SCAN's. Read BEFORE
 * the keyspace SCAN (layout.ts, "Fills in flight"): a fill registered before this read is
 * revoked, one registered after it loads after the invalidation began, and one that
 * finished before it wrote a value the SCAN then finds.
 */
export async function scanFilling(
  redis: RedisClient,
  pattern: string,
  count: number,
  onPage: (keys: string[]) => Promise<void>,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.zscan(FILLING_KEY, cursor, 'MATCH', pattern, 'COUNT', count);
    // ZSCAN answers member, score, member, score...
    const keys = flat.filter((_, i) => i % 2 === 0);
    if (keys.length > 0) await onPage(keys);
    cursor = next;
  } while (cursor !== '0');
}
