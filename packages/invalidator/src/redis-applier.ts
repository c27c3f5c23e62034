import { type InvalidationEvent, Operation } from '@fabric/proto';
import { isUnknownScript, type LuaScript, type RedisClient } from '@fabric/sdk';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type ApplyResult, ApplyTally } from './apply-tally.js';
import { ClusterTopology } from './cluster-topology.js';
import {
  BATCH_SCRIPTS,
  type Command,
  countReply,
  countTagPage,
  planCommands,
  type TagPageReply,
  tagsToExpand,
} from './command-plan.js';
import { unlinkPage } from './page-unlink.js';
import { StandaloneTopology } from './standalone-topology.js';
import { scanFilling, scanPages, type TopologyStrategy } from './topology.js';

export type { ApplyResult, EventFailure } from './apply-tally.js';
export { HEARTBEAT_KEY } from './command-plan.js';

/** Scripts the planned pipelines call by SHA, to load again on NOSCRIPT. */
const PIPELINED_SCRIPTS: ReadonlyMap<string, LuaScript> = new Map(BATCH_SCRIPTS.map((s) => [s.sha, s]));

/** A tag whose first page (in the pipeline) answered a cursor to go on from. */
interface TagRest {
  tag: string;
  cursor: string;
  asking: readonly number[];
}

export interface RedisApplierOptions {
  /** SCAN and SSCAN COUNT for pattern and tag expansion: members held, and Redis time taken, per step. */
  pageSize?: number;
  /**
   * Lifetime of a version key from its last bump (ms). It must outlast every cache entry
   * that can hold a snapshot of it; see the SDK's layout.ts. Default 7 days.
   */
  versionTtlMs?: number;
  /**
   * > 0: revoked leases become tombstones this long (ms) instead of being deleted, so no
   * fill starts until a commit decoded before it is visible is (lease-revoke.ts). The
   * invalidator passes --fill-tombstone-ms; default here 0 (delete).
   */
  fillTombstoneMs?: number;
}

/**
 * Applies invalidation events to one region's Redis (standalone or cluster), a batch at a
 * time. Tags and patterns are expanded a page at a time (SSCAN, SCAN), each tag once per
 * batch however many of its events name it, each page's keys deleted before the next is
 * read, so neither memory nor a Redis step grows with the size of a tag or of the keyspace.
 * The rest of the batch is pipelined: one UNLINK for every value key, one for every lease,
 * one version script for the version keys (one pipeline on a standalone server, one per
 * slot in a cluster). On a standalone server the first page of every tag rides in that
 * pipeline too, so an ordinary batch costs one round trip; a cluster expands its tags
 * (and both their patterns) before it. Either way a failed command blames only the events
 * that asked for it.
 *
 * Idempotent: deleting keys, leases and tag members twice changes nothing, and a
 * redelivered event only moves its version keys forward again, which invalidates once more.
 */
export class RedisApplier {
  private readonly topology: TopologyStrategy;
  private readonly pageSize: number;
  private readonly versionTtlMs: number;
  private readonly fillTombstoneMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
    opts: RedisApplierOptions = {},
  ) {
    this.pageSize = opts.pageSize ?? 500;
    this.versionTtlMs = opts.versionTtlMs ?? 7 * 24 * 3600 * 1000;
    this.fillTombstoneMs = opts.fillTombstoneMs ?? 0;
    this.topology = redis.isCluster
      ? new ClusterTopology(redis as Cluster, this.fillTombstoneMs)
      : new StandaloneTopology(redis as Redis, this.fillTombstoneMs);
  }

  /** The servers a paged SCAN (a resync's patterns) must walk. */
  masters(): Redis[] {
    return this.topology.masters();
  }

  async apply(events: readonly InvalidationEvent[]): Promise<ApplyResult> {
    const tally = new ApplyTally(events);
    const expansions: Array<Promise<void>> = [];
    events.forEach((event, index) => {
      if (event.operation === Operation.HEARTBEAT) return;
      tally.addKeys(index, event.keys);
      if (event.patterns.length > 0) expansions.push(this.expandPatterns(event, index, tally));
    });
    const tags = tagsToExpand(events);
    if (!this.topology.inlineTags)
      for (const [tag, asking] of tags) expansions.push(this.expandTag(tag, asking, tally));
    await Promise.all(expansions);
    const planned = planCommands({
      events,
      keysByEvent: tally.pending(),
      slotOf: (key) => this.topology.slotOf(key),
      versionTtlMs: this.versionTtlMs,
      fillTombstoneMs: this.fillTombstoneMs,
      tags: this.topology.inlineTags ? tags : undefined,
      tagPageSize: this.pageSize,
    });

    const rest: TagRest[] = [];
    await this.run(planned, tally, rest);
    // What is left of a tag larger than a page, page by page (rare: a page is --expand-page members).
    await Promise.all(rest.map(({ tag, cursor, asking }) => this.expandTag(tag, asking, tally, cursor)));

    const result = tally.result();
    for (const f of result.failed)
      this.logger.warn({ eventId: f.eventId, stage: f.error.stage, err: f.error.cause }, 'invalidation event failed');
    return result;
  }

  /**
   * One expansion per tag for the whole batch (see tagsToExpand); a failure fails every
   * event that named the tag (their retry starts over, harmlessly).
   */
  private async expandTag(tag: string, asking: readonly number[], tally: ApplyTally, cursor = '0'): Promise<void> {
    try {
      await this.topology.expandTag(tag, this.pageSize, tally, cursor);
      tally.add('tagsExpanded');
    } catch (err) {
      for (const index of asking) tally.fail(index, 'tag', err);
    }
  }

  /** Patterns page by page; a failure stops the event (its retry starts over, harmlessly). */
  private async expandPatterns(event: InvalidationEvent, index: number, tally: ApplyTally): Promise<void> {
    try {
      const slotOf = (key: string) => this.topology.slotOf(key);
      const unlink = async (keys: string[]) => {
        await unlinkPage(this.redis, keys, slotOf, tally, this.fillTombstoneMs);
        tally.add('pagesScanned');
      };
      for (const pattern of event.patterns) {
        // Fills in flight first: SCAN sees values, not loads that have not written yet.
        await scanFilling(this.redis, pattern, this.pageSize, unlink);
        await scanPages(this.topology.masters(), pattern, this.pageSize, unlink);
        tally.add('patternsScanned');
      }
    } catch (err) {
      tally.fail(index, 'pattern', err);
    }
  }

  /**
   * Sends the strategy's pipelines concurrently. Scripts go by SHA; a server that lost them
   * (restart, SCRIPT FLUSH) gets the script loaded and only the refused calls sent again.
   */
  private async run(commands: Command[], tally: ApplyTally, rest: TagRest[], reloaded = false): Promise<void> {
    await Promise.all(this.topology.pipelines(commands).map((batch) => this.send(batch, tally, rest, reloaded)));
  }

  private async send(batch: Command[], tally: ApplyTally, rest: TagRest[], reloaded: boolean): Promise<void> {
    if (batch.length === 0) return;
    const blame = (commands: Command[], err: unknown) =>
      commands.forEach((c) => c.events.forEach((i) => tally.fail(i, c.stage, err)));
    let replies: Array<[Error | null, unknown]>;
    try {
      replies = (await this.redis.pipeline(batch.map((c) => c.args)).exec()) ?? [];
    } catch (err) {
      blame(batch, err);
      return;
    }
    const unknownScript = reloaded
      ? []
      : batch.filter((c, i) => c.args[0] === 'evalsha' && isUnknownScript(replies[i]?.[0]));
    if (unknownScript.length > 0) {
      try {
        // SCRIPT LOAD through a cluster client reaches one node only: load on every master.
        const scripts = new Set(unknownScript.map((c) => PIPELINED_SCRIPTS.get(c.args[1] ?? '')));
        for (const script of scripts)
          if (script) await Promise.all(this.topology.masters().map((node) => script.load(node)));
        await this.run(unknownScript, tally, rest, true);
      } catch (err) {
        blame(unknownScript, err);
      }
    }
    const resent = new Set(unknownScript);
    batch.forEach((command, i) => {
      if (resent.has(command)) return;
      const [err, reply] = replies[i] ?? [new Error('no reply from Redis'), null];
      if (err) blame([command], err);
      else if (command.count !== 'tagPage') countReply(tally, command, reply);
      else {
        const cursor = countTagPage(tally, reply as TagPageReply);
        if (cursor === '0') tally.add('tagsExpanded');
        else rest.push({ tag: command.tag ?? '', cursor, asking: command.events });
      }
    });
  }
}
