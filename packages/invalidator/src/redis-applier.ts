import { type InvalidationEvent, Operation, timestampMs } from '@fabric/proto';
import { isUnknownScript, leaseKey, type RedisClient, tagKey } from '@fabric/sdk';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ApplyError, type ApplyStage } from './errors.js';
import { groupBySlot, keySlot } from './slot.js';
import { expandTag } from './tag-script.js';

export interface EventFailure {
  /** Position in the batch given to apply(). */
  index: number;
  eventId: string;
  error: ApplyError;
}

export interface ApplyResult {
  /** Cache values that existed and were deleted (keys, tag members, pattern matches). */
  keysUnlinked: number;
  /** Fill leases deleted: fills in flight for those keys will be refused. */
  leasesRevoked: number;
  versionsBumped: number;
  tagsExpanded: number;
  patternsScanned: number;
  /** Heartbeat events written through to Redis (see HEARTBEAT_KEY). */
  heartbeats: number;
  /** Events that failed; everything else in the batch is applied. */
  failed: EventFailure[];
}

/**
 * Heartbeat events carry no keys, but they must still reach Redis: freshness counts a
 * heartbeat as applied, and a heartbeat that "applied" while Redis was down would report a
 * region as fresh while its invalidations were stuck. Holds the newest primary commit time
 * (ms) written by any partition.
 */
export const HEARTBEAT_KEY = 'fabric:heartbeat';

export interface RedisApplierOptions {
  /** SCAN COUNT hint for pattern invalidations. */
  scanCount?: number;
}

/** One command for one slot and the events that asked for it, to blame them if it fails. */
interface Command {
  slot: number;
  stage: ApplyStage;
  args: [name: 'unlink' | 'incr' | 'set' | 'evalsha', ...keysAndValues: string[]];
  events: number[];
  count: 'keysUnlinked' | 'leasesRevoked' | 'versionsBumped' | 'heartbeats' | 'tagsExpanded';
}

type Fail = (index: number, stage: ApplyStage, cause: unknown) => void;

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
  private readonly scanCount: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
    opts: RedisApplierOptions = {},
  ) {
    this.scanCount = opts.scanCount ?? 500;
  }

  async apply(events: readonly InvalidationEvent[]): Promise<ApplyResult> {
    const result: ApplyResult = {
      keysUnlinked: 0,
      leasesRevoked: 0,
      versionsBumped: 0,
      tagsExpanded: 0,
      patternsScanned: 0,
      heartbeats: 0,
      failed: [],
    };
    const failures = new Map<number, EventFailure>();
    const fail: Fail = (index, stage, cause) => {
      if (failures.has(index)) return;
      const eventId = events[index]?.id ?? '';
      failures.set(index, { index, eventId, error: new ApplyError(stage, eventId, cause) });
    };

    const keysByEvent = new Map<number, Set<string>>();
    const popped = new Map<number, Array<[tag: string, members: string[]]>>();
    const scripts: Command[] = [];
    const expansions: Array<Promise<void>> = [];
    events.forEach((event, index) => {
      if (event.operation === Operation.HEARTBEAT) return;
      const keys = new Set(event.keys);
      keysByEvent.set(index, keys);
      if (!this.redis.isCluster) {
        for (const tag of event.tags)
          scripts.push({
            slot: 0,
            stage: 'tag',
            args: expandTag.command([tagKey(tag)], ['1']),
            events: [index],
            count: 'tagsExpanded',
          });
      }
      // Round trips before the pipeline only where the keys are not known yet.
      if ((this.redis.isCluster && event.tags.length > 0) || event.patterns.length > 0) {
        expansions.push(this.expand(event, index, keys, result, popped, fail));
      }
    });
    await Promise.all(expansions);
    for (const index of failures.keys()) keysByEvent.delete(index);

    await this.run([...scripts, ...this.plan(events, keysByEvent)], result, fail);

    await this.restoreTags(popped, failures);
    result.failed = [...failures.values()].sort((a, b) => a.index - b.index);
    for (const f of result.failed)
      this.logger.warn({ eventId: f.eventId, stage: f.error.stage, err: f.error.cause }, 'invalidation event failed');
    return result;
  }

  /** Cluster tags (members returned, deleted by the caller) and patterns, into `keys`. */
  private async expand(
    event: InvalidationEvent,
    index: number,
    keys: Set<string>,
    result: ApplyResult,
    popped: Map<number, Array<[string, string[]]>>,
    fail: Fail,
  ): Promise<void> {
    let stage: ApplyStage = 'tag';
    try {
      if (this.redis.isCluster) {
        for (const tag of event.tags) {
          const [values, leases, ...members] = (await expandTag.run(this.redis, [tagKey(tag)], ['0'])) as [
            number,
            number,
            ...string[],
          ];
          result.keysUnlinked += values;
          result.leasesRevoked += leases;
          members.forEach((m) => keys.add(m));
          if (members.length > 0) popped.set(index, [...(popped.get(index) ?? []), [tag, members]]);
          result.tagsExpanded++;
        }
      }
      stage = 'pattern';
      for (const pattern of event.patterns) {
        for (const key of await this.scan(pattern)) keys.add(key);
        result.patternsScanned++;
      }
    } catch (err) {
      fail(index, stage, err);
    }
  }

  /** Per slot (one slot on a standalone server): one UNLINK for the values, one for their leases; one INCR per version; one SET per heartbeat. */
  private plan(events: readonly InvalidationEvent[], keysByEvent: Map<number, Set<string>>): Command[] {
    const slotOf = this.redis.isCluster ? keySlot : () => 0;
    const entries: Array<{ key: string; index: number }> = [];
    for (const [index, keys] of keysByEvent) for (const key of keys) entries.push({ key, index });
    const commands: Command[] = [];
    for (const [slot, group] of groupBySlot(entries, (e) => e.key, slotOf)) {
      const keys = [...new Set(group.map((e) => e.key))];
      const blamed = [...new Set(group.map((e) => e.index))];
      commands.push({ slot, stage: 'unlink', args: ['unlink', ...keys], events: blamed, count: 'keysUnlinked' });
      commands.push({
        slot,
        stage: 'unlink',
        args: ['unlink', ...keys.map(leaseKey)],
        events: blamed,
        count: 'leasesRevoked',
      });
    }
    for (const index of keysByEvent.keys()) {
      for (const key of events[index]!.versions)
        commands.push({
          slot: slotOf(key),
          stage: 'incr',
          args: ['incr', key],
          events: [index],
          count: 'versionsBumped',
        });
    }
    const heartbeatSlot = slotOf(HEARTBEAT_KEY);
    events.forEach((event, index) => {
      if (event.operation !== Operation.HEARTBEAT) return;
      const at = event.primaryCommitTime ? timestampMs(event.primaryCommitTime) : Date.now();
      commands.push({
        slot: heartbeatSlot,
        stage: 'heartbeat',
        args: ['set', HEARTBEAT_KEY, String(at)],
        events: [index],
        count: 'heartbeats',
      });
    });
    return commands;
  }

  /**
   * A standalone Redis takes the whole batch as one pipeline. ioredis sends a cluster
   * pipeline to one node and refuses keys of several slots, so there it is one per slot.
   * Scripts go by SHA; a server that lost them (restart, SCRIPT FLUSH) gets the script
   * loaded and only the refused calls sent again.
   */
  private async run(commands: Command[], result: ApplyResult, fail: Fail, reloaded = false): Promise<void> {
    const batches = this.redis.isCluster ? [...groupBy(commands, (c) => c.slot).values()] : [commands];
    await Promise.all(
      batches.map(async (batch) => {
        if (batch.length === 0) return;
        let replies: Array<[Error | null, unknown]>;
        try {
          replies = (await this.redis.pipeline(batch.map((c) => c.args)).exec()) ?? [];
        } catch (err) {
          batch.forEach((c) => c.events.forEach((i) => fail(i, c.stage, err)));
          return;
        }
        const unknownScript = reloaded
          ? []
          : batch.filter((c, i) => c.args[0] === 'evalsha' && isUnknownScript(replies[i]?.[0]));
        if (unknownScript.length > 0) {
          try {
            await expandTag.load(this.redis);
            await this.run(unknownScript, result, fail, true);
          } catch (err) {
            unknownScript.forEach((c) => c.events.forEach((i) => fail(i, c.stage, err)));
          }
        }
        const resent = new Set(unknownScript);
        batch.forEach((command, i) => {
          if (resent.has(command)) return;
          const [err, reply] = replies[i] ?? [new Error('no reply from Redis'), null];
          if (err) command.events.forEach((e) => fail(e, command.stage, err));
          else count(result, command, reply);
        });
      }),
    );
  }

  /**
   * Cluster only: a tag set was deleted before its members (other slots). If deleting the
   * members then failed, put them back so the retried event finds them again; otherwise the
   * retry would see an empty set and leave the members cached.
   */
  private async restoreTags(
    popped: Map<number, Array<[string, string[]]>>,
    failures: Map<number, EventFailure>,
  ): Promise<void> {
    const restores = [...failures.keys()].flatMap((index) => popped.get(index) ?? []);
    await Promise.all(
      restores.map(([tag, members]) =>
        this.redis
          .sadd(tagKey(tag), ...members)
          .catch((err: unknown) =>
            this.logger.error({ err, tag }, 'could not restore tag members after a failed apply'),
          ),
      ),
    );
  }

  /** SCAN, never KEYS: KEYS blocks the server for the whole keyspace. A cluster scans every master. */
  private async scan(pattern: string): Promise<Set<string>> {
    const nodes: Array<Redis | Cluster> = this.redis.isCluster ? (this.redis as Cluster).nodes('master') : [this.redis];
    const found = new Set<string>();
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', this.scanCount);
        keys.forEach((k) => found.add(k));
        cursor = next;
      } while (cursor !== '0');
    }
    return found;
  }
}

function count(result: ApplyResult, command: Command, reply: unknown): void {
  if (command.count === 'tagsExpanded') {
    const [values, leases] = reply as [number, number];
    result.keysUnlinked += values;
    result.leasesRevoked += leases;
    result.tagsExpanded++;
  } else if (command.count === 'versionsBumped' || command.count === 'heartbeats') {
    result[command.count]++;
  } else {
    result[command.count] += Number(reply);
  }
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}
