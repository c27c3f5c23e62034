import { type InvalidationEvent, Operation } from '@fabric/proto';
import type { Logger } from 'pino';
import { type Decoded, decodeInvalidation } from './decode.js';
import type { ApplyResult } from './redis-applier.js';
import type { ResyncJob, ResyncOutcome } from './resync-runner.js';
import { failureKind, failureReason, type RetryPolicy, retryDelay } from './retry-policy.js';

/** One record of the regional topic, as the consumer hands it over. */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface DeadLetterDraft {
  record: SourceRecord;
  cause: 'undecodable' | 'invalid' | 'permanent' | 'exhausted';
  reason: string;
  /** Apply attempts made; 0 when the record could not even be decoded. */
  attempts: number;
  event?: InvalidationEvent;
}

export interface ProcessControl {
  /** Keeps the consumer's group membership alive through long retries. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or lost the partition. */
  isRunning(): boolean;
}

export interface ProcessObserver {
  applyResult(result: ApplyResult, seconds: number): void;
  applied(event: InvalidationEvent, partition: number): void;
  retrying(events: number, attempt: number, delayMs: number, error: unknown): void;
  deadLettered(draft: DeadLetterDraft): void;
  heartbeatDropped(event: InvalidationEvent, error: unknown): void;
  /** The partition stopped at an outage: nothing from the failed events on is committed. */
  blocked(partition: number, reason: string, error: unknown): void;
  /** Redis answers again (or the partition was given up): blocked for `blockedMs`. */
  unblocked(partition: number, blockedMs: number): void;
  /** Every record of a chunk is applied or dead-lettered (the read-your-writes watermark may move). */
  chunkDone?(partition: number): void;
}

export type ProcessOutcome = { status: 'done'; applied: number; deadLettered: number } | { status: 'interrupted' };

export interface BatchProcessorDeps {
  apply(events: InvalidationEvent[]): Promise<ApplyResult>;
  /** Runs a RESYNC's recovery action to its end (or until the control says stop). */
  resync(job: ResyncJob, control: ProcessControl): Promise<ResyncOutcome>;
  /** Must resolve only once the dead letters are durable; a throw keeps the batch uncommitted. */
  publishDeadLetters(drafts: DeadLetterDraft[]): Promise<void>;
  policy: RetryPolicy;
  sleep(ms: number): Promise<void>;
  observer: ProcessObserver;
  logger: Logger;
  random?: () => number;
  now?: () => number;
}

interface Pending {
  record: SourceRecord;
  event: InvalidationEvent;
  /** Applies tried, and how many of them met a moving slot (counted against maxAttempts). */
  attempts: number;
  slotMoving: number;
}

interface Item {
  record: SourceRecord;
  decoded: Decoded;
}

/**
 * Takes a chunk of records to the point where every one is either applied to Redis or
 * durably dead-lettered; only then may the caller commit the offsets. Events that fail are
 * retried alone (the rest of the chunk is already applied) with capped, jittered backoff.
 *
 * Only a failure of the event itself is a dead letter (see FailureKind). An outage blocks
 * the partition instead, for as long as it lasts: dead-lettering there would turn every
 * event in flight into a stale key an operator must replay by hand, while blocking costs
 * only freshness, which the metrics and /healthz report. Interrupted by a stop, it returns
 * without dead-lettering anything, so the uncommitted chunk is redelivered to whoever
 * consumes the partition next.
 */
export class BatchProcessor {
  /** Partitions blocked by an outage, since when; one log line and metric change per transition. */
  private readonly blockedSince = new Map<number, number>();
  private readonly now: () => number;

  constructor(private readonly deps: BatchProcessorDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Partitions blocked by an outage right now. */
  blockedPartitions(): number[] {
    return [...this.blockedSince.keys()];
  }

  async process(records: readonly SourceRecord[], control: ProcessControl): Promise<ProcessOutcome> {
    const items: Item[] = records.map((record) => ({ record, decoded: decodeInvalidation(record.value) }));
    let applied = 0;
    let deadLettered = 0;
    // A RESYNC splits the chunk: what came before it is applied first, what comes after it
    // only once its recovery ran, so nothing after a gap counts as applied before the gap is repaired.
    let from = 0;
    for (let i = 0; i <= items.length; i++) {
      const item = items[i];
      const resync =
        item?.decoded.ok && item.decoded.event.operation === Operation.RESYNC ? item.decoded.event : undefined;
      if (i < items.length && !resync) continue;
      const run = await this.processRun(items.slice(from, i), control);
      if (run.status === 'interrupted') return run;
      applied += run.applied;
      deadLettered += run.deadLettered;
      if (resync && item) {
        if (!(await this.resync(item.record, resync, control))) return { status: 'interrupted' };
        applied++;
      }
      from = i + 1;
    }
    if (records[0]) this.deps.observer.chunkDone?.(records[0].partition);
    return { status: 'done', applied, deadLettered };
  }

  /**
   * A resync is never dead-lettered: dropping it would leave the gap's stale entries
   * cached for good. It is retried, with the same capped backoff, until it runs or the
   * consumer stops (then the chunk is redelivered and the recovery resumes where it was).
   */
  private async resync(record: SourceRecord, event: InvalidationEvent, control: ProcessControl): Promise<boolean> {
    const recovered = await this.recover(
      {
        // decode refuses a RESYNC without resync.id and resync.reason.
        id: event.resync?.id ?? '',
        reason: event.resync?.reason ?? '',
        detail: event.resync?.detail ?? '',
        recovery: { keys: event.keys, tags: event.tags, versions: event.versions, patterns: event.patterns },
      },
      control,
    );
    if (recovered) this.deps.observer.applied(event, record.partition);
    return recovered;
  }

  /** Runs a resync to its end; false when the consumer stopped first. Also used for gaps the consumer finds. */
  async recover(job: ResyncJob, control: ProcessControl): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.deps.resync(job, control)).status === 'done';
      } catch (err) {
        const delay = retryDelay(this.deps.policy, attempt, this.deps.random);
        this.deps.observer.retrying(1, attempt, delay, err);
        if (!(await this.wait(delay, control))) return false;
      }
    }
  }

  /** Applies a run of records without a RESYNC among them: retries, then dead letters. */
  private async processRun(items: readonly Item[], control: ProcessControl): Promise<ProcessOutcome> {
    const letters: DeadLetterDraft[] = [];
    let pending: Pending[] = [];
    for (const { record, decoded } of items) {
      if (decoded.ok) pending.push({ record, event: decoded.event, attempts: 0, slotMoving: 0 });
      else letters.push({ record, cause: decoded.cause, reason: decoded.reason, attempts: 0 });
      // The valid part applies; the entries that never can are a dead letter of their own.
      if (decoded.ok && decoded.rejected)
        letters.push({ record, cause: 'invalid', reason: decoded.rejected, attempts: 0, event: decoded.event });
    }
    const partition = items[0]?.record.partition ?? -1;

    let applied = 0;
    for (let round = 1; pending.length > 0; round++) {
      const errors = await this.applyOnce(pending);
      const retry: Pending[] = [];
      let outage: unknown;
      pending.forEach((p, i) => {
        p.attempts++;
        const error = errors.get(i);
        if (error === undefined) {
          applied++;
          this.deps.observer.applied(p.event, p.record.partition);
          return;
        }
        const kind = failureKind(error);
        if (kind === 'outage') {
          outage ??= error;
          retry.push(p);
        } else if (kind === 'event') {
          this.giveUp(p, letters, 'permanent', `permanent failure: ${message(error)}`, error);
        } else if (++p.slotMoving >= this.deps.policy.maxAttempts) {
          this.giveUp(p, letters, 'exhausted', `still failing after ${p.attempts} attempts: ${message(error)}`, error);
        } else {
          retry.push(p);
        }
      });
      if (outage === undefined) this.unblock(partition);
      else this.block(partition, outage);
      pending = retry;
      if (pending.length === 0) break;
      const delay = retryDelay(this.deps.policy, round, this.deps.random);
      this.deps.observer.retrying(pending.length, round, delay, outage ?? errors.values().next().value);
      if (!(await this.wait(delay, control))) {
        // Whoever gets the partition next starts from the uncommitted chunk, blocked or not.
        this.unblock(partition, 'stopped');
        return { status: 'interrupted' };
      }
    }

    if (letters.length > 0) {
      await this.deps.publishDeadLetters(letters);
      letters.forEach((l) => this.deps.observer.deadLettered(l));
    }
    return { status: 'done', applied, deadLettered: letters.length };
  }

  private block(partition: number, error: unknown): void {
    if (this.blockedSince.has(partition)) return;
    this.blockedSince.set(partition, this.now());
    const reason = failureReason(error);
    this.deps.logger.warn(
      { partition, reason, err: message(error) },
      'partition blocked: Redis is unavailable; retrying until it answers, nothing dead-lettered, offsets held',
    );
    this.deps.observer.blocked(partition, reason, error);
  }

  private unblock(partition: number, why: 'recovered' | 'stopped' = 'recovered'): void {
    const since = this.blockedSince.get(partition);
    if (since === undefined) return;
    this.blockedSince.delete(partition);
    const blockedMs = this.now() - since;
    if (why === 'recovered')
      this.deps.logger.info({ partition, blockedMs }, 'partition unblocked: Redis answers again');
    else this.deps.logger.info({ partition, blockedMs }, 'partition released while blocked; its chunk is redelivered');
    this.deps.observer.unblocked(partition, blockedMs);
  }

  /** Errors by position in `pending`; a call that throws as a whole fails every event. */
  private async applyOnce(pending: Pending[]): Promise<Map<number, unknown>> {
    const started = performance.now();
    try {
      const result = await this.deps.apply(pending.map((p) => p.event));
      this.deps.observer.applyResult(result, (performance.now() - started) / 1000);
      return new Map(result.failed.map((f) => [f.index, f.error]));
    } catch (err) {
      return new Map(pending.map((_, i) => [i, err]));
    }
  }

  /** A heartbeat holds nothing to invalidate, so it is not worth a dead letter. */
  private giveUp(
    p: Pending,
    letters: DeadLetterDraft[],
    cause: 'permanent' | 'exhausted',
    reason: string,
    error: unknown,
  ): void {
    if (p.event.operation === Operation.HEARTBEAT) this.deps.observer.heartbeatDropped(p.event, error);
    else letters.push({ record: p.record, cause, reason, attempts: p.attempts, event: p.event });
  }

  /** Sleeps in slices so the group heartbeat keeps going and a stop is noticed within a second. */
  private async wait(ms: number, control: ProcessControl): Promise<boolean> {
    let left = ms;
    while (left > 0) {
      if (!control.isRunning()) return false;
      await control.heartbeat();
      const slice = Math.min(left, 1000);
      await this.deps.sleep(slice);
      left -= slice;
    }
    return control.isRunning();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
