import { type InvalidationEvent, Operation } from '@fabric/proto';
import { isUnknownScript, type RedisClient, tagKey } from '@fabric/sdk';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type ApplyResult, ApplyTally, type PoppedTag } from './apply-tally.js';
import { ClusterTopology } from './cluster-topology.js';
import { type Command, countReply, planCommands } from './command-plan.js';
import type { ApplyStage } from './errors.js';
import { StandaloneTopology } from './standalone-topology.js';
import { expandTag } from './tag-script.js';
import type { TopologyStrategy } from './topology.js';

export type { ApplyResult, EventFailure } from './apply-tally.js';
export { HEARTBEAT_KEY } from './command-plan.js';

export interface RedisApplierOptions {
  /** SCAN COUNT hint for pattern invalidations. */
  scanCount?: number;
}

/**
 * Applies invalidation events to one region's Redis (standalone or cluster), a batch at a
 * time. On a standalone server the whole batch is one pipeline: tag scripts, one UNLINK for
 * every value key, one for every lease, the INCRs. A cluster expands tags first (members
 * live in other slots, which a script may not touch), then pipelines per slot. Either way a
 * failed command blames only the events that asked for it.
 *
 * Idempotent apart from versions: deleting keys, leases and tag sets twice changes nothing,
 * but a redelivered event INCRs its version keys again. That is harmless because readers
 * only compare versions for equality with what they filled under; a counter that moves
 * twice just invalidates once more.
 */
export class RedisApplier {
  private readonly topology: TopologyStrategy;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
    opts: RedisApplierOptions = {},
  ) {
    const scanCount = opts.scanCount ?? 500;
    this.topology = redis.isCluster
      ? new ClusterTopology(redis as Cluster, scanCount)
      : new StandaloneTopology(redis as Redis, scanCount);
  }

  /** The servers a paged SCAN (a resync's patterns) must walk. */
  masters(): Redis[] {
    return this.topology.masters();
  }

  async apply(events: readonly InvalidationEvent[]): Promise<ApplyResult> {
    const tally = new ApplyTally(events);
    const expansions: Array<Promise<Command[]>> = [];
    events.forEach((event, index) => {
      if (event.operation === Operation.HEARTBEAT) return;
      tally.addKeys(index, event.keys);
      // Round trips before the pipeline only where the keys are not known yet.
      if (event.tags.length > 0 || event.patterns.length > 0) expansions.push(this.expand(event, index, tally));
    });
    const pipelinedTags = (await Promise.all(expansions)).flat();
    const planned = planCommands({ events, keysByEvent: tally.pending(), slotOf: (key) => this.topology.slotOf(key) });

    await this.run([...pipelinedTags, ...planned], tally);

    await this.restoreTags(tally.poppedByFailed());
    const result = tally.result();
    for (const f of result.failed)
      this.logger.warn({ eventId: f.eventId, stage: f.error.stage, err: f.error.cause }, 'invalidation event failed');
    return result;
  }

  /** Tags (into the keys, or as script calls for the pipeline), then patterns into the keys. */
  private async expand(event: InvalidationEvent, index: number, tally: ApplyTally): Promise<Command[]> {
    let stage: ApplyStage = 'tag';
    let pipelined: Command[] = [];
    try {
      if (event.tags.length > 0) pipelined = await this.topology.expandTags(index, event.tags, tally);
      stage = 'pattern';
      for (const pattern of event.patterns) {
        tally.addKeys(index, await this.topology.scan(pattern));
        tally.add('patternsScanned');
      }
    } catch (err) {
      tally.fail(index, stage, err);
    }
    return pipelined;
  }

  /**
   * Sends the strategy's pipelines concurrently. Scripts go by SHA; a server that lost them
   * (restart, SCRIPT FLUSH) gets the script loaded and only the refused calls sent again.
   */
  private async run(commands: Command[], tally: ApplyTally, reloaded = false): Promise<void> {
    await Promise.all(this.topology.pipelines(commands).map((batch) => this.send(batch, tally, reloaded)));
  }

  private async send(batch: Command[], tally: ApplyTally, reloaded: boolean): Promise<void> {
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
        await expandTag.load(this.redis);
        await this.run(unknownScript, tally, true);
      } catch (err) {
        blame(unknownScript, err);
      }
    }
    const resent = new Set(unknownScript);
    batch.forEach((command, i) => {
      if (resent.has(command)) return;
      const [err, reply] = replies[i] ?? [new Error('no reply from Redis'), null];
      if (err) blame([command], err);
      else countReply(tally, command, reply);
    });
  }

  /**
   * A tag set popped before its members were deleted (cluster): if deleting them then
   * failed, put them back so the retried event finds them again; otherwise the retry would
   * see an empty set and leave the members cached.
   */
  private async restoreTags(popped: PoppedTag[]): Promise<void> {
    await Promise.all(
      popped.map(({ tag, members }) =>
        this.redis
          .sadd(tagKey(tag), ...members)
          .catch((err: unknown) =>
            this.logger.error({ err, tag }, 'could not restore tag members after a failed apply'),
          ),
      ),
    );
  }
}
