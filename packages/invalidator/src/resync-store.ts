import {
  type ContinuityState,
  continuityKey,
  parseRecoveryAction,
  RESYNC_DONE_PREFIX,
  type RecoveryAction,
  resyncKey,
} from '@fabric/contracts';
import type { RedisClient } from '@fabric/sdk';

/** How far a resync's recovery got; written after every page so a crash resumes there. */
export interface ResyncProgress {
  id: string;
  reason: string;
  detail: string;
  state: 'resyncing' | 'done';
  startedAt: string;
  finishedAt?: string;
  keysDropped: number;
  /** 0: the literal keys, tags and versions; 1 + i: pattern i. */
  step: number;
  /** Index of the master being scanned, in the order of `nodes`. */
  node: number;
  cursor: string;
  /** The masters the cursor belongs to: a cursor is meaningless on another node. */
  nodes: string;
}

/** A week: long past any copy of the same resync still sitting in a partition. */
const DONE_TTL_SECONDS = 7 * 24 * 3600;

/** The resync's state in the region's Redis, beside the cache it recovers. */
export class ResyncStore {
  private readonly key: string;

  /** `topic`: the region's invalidation topic, which names the stream's records. */
  constructor(
    private readonly redis: RedisClient,
    private readonly topic: string,
  ) {
    this.key = resyncKey(topic);
  }

  async progress(): Promise<ResyncProgress | undefined> {
    const h = await this.redis.hgetall(this.key);
    if (!h.id || (h.state !== 'resyncing' && h.state !== 'done')) return undefined;
    return {
      id: h.id,
      reason: h.reason ?? '',
      detail: h.detail ?? '',
      state: h.state,
      startedAt: h.startedAt ?? '',
      finishedAt: h.finishedAt || undefined,
      keysDropped: Number(h.keysDropped ?? 0) || 0,
      step: Number(h.step ?? 0) || 0,
      node: Number(h.node ?? 0) || 0,
      cursor: h.cursor || '0',
      nodes: h.nodes ?? '',
    };
  }

  async save(p: ResyncProgress): Promise<void> {
    const fields: Record<string, string> = {
      id: p.id,
      reason: p.reason,
      detail: p.detail,
      state: p.state,
      startedAt: p.startedAt,
      keysDropped: String(p.keysDropped),
      step: String(p.step),
      node: String(p.node),
      cursor: p.cursor,
      nodes: p.nodes,
    };
    // One round trip per page, and no reader ever sees a finished time beside a running state.
    const write = this.redis.multi();
    if (p.finishedAt) fields.finishedAt = p.finishedAt;
    else write.hdel(this.key, 'finishedAt');
    await write.hset(this.key, fields).exec();
  }

  /** Keys dropped by a finished resync, or undefined when `id` has not finished. */
  async finished(id: string): Promise<number | undefined> {
    const v = await this.redis.get(RESYNC_DONE_PREFIX + id);
    return v === null ? undefined : Number(v) || 0;
  }

  async markFinished(id: string, keysDropped: number): Promise<void> {
    await this.redis.set(RESYNC_DONE_PREFIX + id, String(keysDropped), 'EX', DONE_TTL_SECONDS);
  }

  /** The recovery action the region's reader recorded from its key rules. */
  async recordedRecovery(): Promise<RecoveryAction | undefined> {
    return parseRecoveryAction((await this.redis.hget(continuityKey(this.topic), 'recovery')) ?? undefined);
  }
}

/** What a status body says of a region's continuity, from its newest resync. */
export function continuityOf(p: ResyncProgress | undefined): ContinuityState {
  if (!p) return { state: 'ok' };
  return {
    state: p.state === 'done' ? 'ok' : 'resyncing',
    resyncId: p.id,
    reason: p.reason,
    detail: p.detail,
    startedAt: p.startedAt || undefined,
    finishedAt: p.finishedAt,
    keysDropped: p.keysDropped,
  };
}
