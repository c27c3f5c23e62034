/** Where the region's consumer group member is, as RegionConsumer reports it. */
export type ConsumerState = 'starting' | 'joined' | 'restarting' | 'failed' | 'stopped';

export interface HealthVerdict {
  ok: boolean;
  /** Why not, one reason per failing condition; absent while ok. */
  detail?: string;
}

export interface InvalidatorHealthOptions {
  /** How long a condition that usually heals by itself may last before the answer is no. */
  graceMs: number;
  now?: () => number;
}

/**
 * Decides whether this invalidator can do its job, which /healthz answers with 200 or 503.
 * No, at once, when the Kafka consumer gave up or stopped: nothing will consume until a
 * restart. No, after the grace period, while Redis is not ready, while the consumer is not
 * in its group (starting, or restarting after an error), or while applies keep failing and
 * none succeeds (Redis connected but not answering). Short blips (a reconnect, a rebalance)
 * stay 200: the retries and the DLQ absorb them.
 *
 * Holding no partitions is not a failure: a member of a group with more members than
 * partitions stands by, legitimately, until another member leaves.
 */
export class InvalidatorHealth {
  private readonly graceMs: number;
  private readonly now: () => number;
  private redisDownSince: number | null;
  private consumer: ConsumerState = 'starting';
  private consumerSince: number;
  private applyFailingSince: number | null = null;

  constructor({ graceMs, now = Date.now }: InvalidatorHealthOptions) {
    this.graceMs = graceMs;
    this.now = now;
    this.redisDownSince = now();
    this.consumerSince = now();
  }

  /** From the client's ready/close events, and sampled on every question. */
  redisReady(ready: boolean): void {
    if (ready) this.redisDownSince = null;
    else this.redisDownSince ??= this.now();
  }

  consumerState(state: ConsumerState): void {
    if (state === this.consumer) return;
    this.consumer = state;
    this.consumerSince = this.now();
  }

  /** Some events are being retried after a failed apply. */
  applyRetrying(): void {
    this.applyFailingSince ??= this.now();
  }

  /** An event was applied: Redis does its part. */
  applied(): void {
    this.applyFailingSince = null;
  }

  verdict(): HealthVerdict {
    const now = this.now();
    const longer = (since: number | null) => since !== null && now - since > this.graceMs;
    const seconds = (since: number) => `${Math.round((now - since) / 1000)} s`;
    const reasons: string[] = [];
    if (this.consumer === 'failed') reasons.push('kafka consumer gave up');
    else if (this.consumer === 'stopped') reasons.push('kafka consumer stopped');
    else if (this.consumer !== 'joined' && longer(this.consumerSince))
      reasons.push(`not in its consumer group for ${seconds(this.consumerSince)} (${this.consumer})`);
    if (this.redisDownSince !== null && longer(this.redisDownSince))
      reasons.push(`redis not ready for ${seconds(this.redisDownSince)}`);
    else if (this.applyFailingSince !== null && longer(this.applyFailingSince))
      reasons.push(`no event applied for ${seconds(this.applyFailingSince)} while retrying`);
    return reasons.length === 0 ? { ok: true } : { ok: false, detail: reasons.join('; ') };
  }
}
