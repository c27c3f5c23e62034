import { setTimeout as sleep } from 'node:timers/promises';
import { recordBytes } from '@fabric/contracts';
import { backoffDelay, kafkaFailure } from '@fabric/runtime';
import type { Logger } from 'pino';

export interface OutgoingMessage {
  topic: string;
  key: string;
  value: Uint8Array;
  partition?: number;
  /**
   * A dead letter standing in for a message the broker refused. A reference this small refused
   * in turn means a topic set below any record, not bad data: it is retried like an outage
   * until the topic is fixed, never dropped, so the slot is not confirmed past it.
   */
  replacesRefused?: boolean;
}

/** Sends one batch and resolves only when the broker acknowledged all of it (acks=all). */
export type SendBatch = (messages: OutgoingMessage[]) => Promise<void>;

export interface PublisherOptions {
  send: SendBatch;
  /** Called in LSN order with the newest commit whose every message is acknowledged. */
  onConfirmed: (lsn: string) => void;
  logger: Logger;
  maxBatch: number;
  /**
   * Bytes per batch (keys, values, record overhead): one send never exceeds it, so no
   * partition's record batch reaches the broker's message.max.bytes. One message larger
   * than this still goes alone (the reader's limits keep every message below it).
   */
  maxBatchBytes?: number;
  /**
   * How long a message may wait for others to share its batch. Not on a quiet link: a
   * message arriving when nothing was sent for QUIET_LINGERS lingers goes at the end of the
   * current turn of the event loop (with whatever the same turn queued), since waiting
   * would batch it with nothing and only add the linger to an idle region's commit→applied.
   */
  lingerMs: number;
  /** Above this many unsent messages, enqueue() waits: backpressure onto the WAL stream. */
  maxPending?: number;
  /**
   * Above this many unsent bytes, enqueue() waits too: what the queue holds in memory is
   * bounded by bytes, whatever the size of each message (a dead letter may carry a row).
   */
  maxPendingBytes?: number;
  /**
   * A message the broker refused for what it is (too large, invalid): retrying sends the
   * same bytes to the same refusal. Returns the dead letter that stands in for it (a
   * reference, small), or undefined to drop it. Without it, the message is dropped.
   */
  onRefused?: (message: OutgoingMessage, reason: string) => OutgoingMessage | undefined;
  retryBaseMs?: number;
  retryCapMs?: number;
  onBatch?: (size: number, ms: number) => void;
  onSendError?: (err: unknown, attempt: number) => void;
  now?: () => number;
}

/** The batch Kafka has not acknowledged yet: since when it has been sent, and how its attempts failed. */
export interface UnacknowledgedSend {
  /** When its first attempt began (ms since the epoch). */
  since: number;
  failedAttempts: number;
  lastError?: string;
}

type Item = { type: 'message'; message: OutgoingMessage; bytes: number } | { type: 'commit'; lsn: string };

type Attempt = { status: 'sent' } | { status: 'closed' } | { status: 'refused'; reason: string };

export const DEFAULT_MAX_PENDING = 20_000;

/**
 * A link is quiet once nothing was sent for this many lingers. Not one: a region at 1,000
 * changes/s has gaps of a few ms between its commits, and a message sent alone after each
 * gap made a quarter more sends (and as many more fetch rounds for the invalidator).
 */
export const QUIET_LINGERS = 10;

/**
 * Batches messages to Kafka and turns acknowledgements into confirmed commit LSNs. The
 * queue holds messages and commit markers in WAL order; one batch is in flight at a time,
 * so a marker is confirmed only after every message queued before it was acknowledged.
 * A failed batch is retried (capped backoff with jitter) until it succeeds or the reader
 * stops: nothing is skipped, which is what makes the slot confirmation safe. The one
 * exception is a batch the broker refuses for its records: it is split until the refused
 * message is alone, and that message is replaced by its dead letter (see onRefused), so
 * the stream behind it moves on instead of retrying the same refusal forever.
 */
export class Publisher {
  private readonly queue: Item[] = [];
  private pendingMessages = 0;
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** A flush is due at the end of this turn (a quiet link), see lingerMs. */
  private soon = false;
  /** When the last batch was acknowledged (ms, the injected clock). */
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private drained: Array<() => void> = [];
  private closed = false;
  private inFlight: UnacknowledgedSend | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: PublisherOptions) {
    this.now = opts.now ?? Date.now;
  }

  async enqueue(message: OutgoingMessage): Promise<void> {
    const bytes = recordBytes(message);
    this.queue.push({ type: 'message', message, bytes });
    this.pendingMessages++;
    this.pendingBytes += bytes;
    this.schedule();
    if (this.full()) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  /** Marks the end of a commit: `lsn` is confirmed once everything before it is acked. */
  commit(lsn: string): void {
    this.queue.push({ type: 'commit', lsn });
    this.schedule();
  }

  /** True when nothing is queued or in flight: an idle reader may confirm keepalive LSNs. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.flushing;
  }

  get pending(): number {
    return this.pendingMessages;
  }

  /** Bytes of the messages not yet acknowledged: what maxPendingBytes bounds. */
  get pendingByteCount(): number {
    return this.pendingBytes;
  }

  /** The batch being sent (and retried) right now, if any: what the reader's health judges. */
  get unacknowledged(): UnacknowledgedSend | undefined {
    return this.inFlight && { ...this.inFlight };
  }

  /** Sends what is queued (bounded by `timeoutMs`) and stops accepting retries after it. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    const done = (async () => {
      while (!this.closed && (this.queue.length > 0 || this.flushing)) await (this.flushing ?? this.flush());
    })();
    await Promise.race([done, sleep(timeoutMs)]);
    // Whatever is still unsent stays unconfirmed: the slot replays it after a restart.
    this.closed = true;
    await this.flushing;
  }

  private schedule(): void {
    if (this.flushing || this.closed) return;
    if (
      this.pendingMessages >= this.opts.maxBatch ||
      this.pendingBytes >= (this.opts.maxBatchBytes ?? Number.POSITIVE_INFINITY) ||
      this.opts.lingerMs === 0
    ) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (this.now() - this.lastSentAt >= this.opts.lingerMs * QUIET_LINGERS) {
      if (this.soon || this.timer) return;
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        void this.flush();
      });
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.opts.lingerMs);
    }
  }

  private flush(): Promise<void> {
    this.flushing ??= this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.schedule();
    });
    return this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      // Take messages up to maxBatch and maxBatchBytes (at least one), plus the commit
      // markers among and right after them.
      let take = 0;
      let messages = 0;
      let bytes = 0;
      const maxBytes = this.opts.maxBatchBytes ?? Number.POSITIVE_INFINITY;
      while (take < this.queue.length) {
        const item = this.queue[take]!;
        if (item.type === 'message') {
          if (messages === this.opts.maxBatch || (messages > 0 && bytes + item.bytes > maxBytes)) break;
          messages++;
          bytes += item.bytes;
        }
        take++;
      }
      const batch = this.queue.slice(0, take);
      const outgoing = batch.flatMap((i) => (i.type === 'message' ? [i.message] : []));
      if (outgoing.length > 0 && !(await this.deliver(outgoing))) return;
      if (outgoing.length > 0) this.lastSentAt = this.now();
      this.queue.splice(0, take);
      this.pendingMessages -= outgoing.length;
      this.pendingBytes -= bytes;
      const lastCommit = batch.findLast((i) => i.type === 'commit');
      if (lastCommit?.type === 'commit') this.opts.onConfirmed(lastCommit.lsn);
      if (!this.full()) this.drained.splice(0).forEach((resolve) => resolve());
    }
  }

  private full(): boolean {
    return (
      this.pendingMessages >= (this.opts.maxPending ?? DEFAULT_MAX_PENDING) ||
      this.pendingBytes >= (this.opts.maxPendingBytes ?? Number.POSITIVE_INFINITY)
    );
  }

  /**
   * Sends `messages` in order; a refused batch is halved until the refused message is
   * alone, which is then replaced by its dead letter. False only when closed meanwhile.
   */
  private async deliver(messages: OutgoingMessage[]): Promise<boolean> {
    const attempt = await this.sendWithRetry(messages);
    if (attempt.status !== 'refused') return attempt.status === 'sent';
    if (messages.length > 1) {
      const half = Math.ceil(messages.length / 2);
      return (await this.deliver(messages.slice(0, half))) && this.deliver(messages.slice(half));
    }
    const refused = messages[0]!;
    const replacement = refused.replacesRefused ? undefined : this.opts.onRefused?.(refused, attempt.reason);
    this.opts.logger.error(
      { topic: refused.topic, key: refused.key.slice(0, 200), bytes: recordBytes(refused), reason: attempt.reason },
      replacement
        ? 'kafka refused a message; sending its dead letter instead'
        : 'kafka refused a message and it has no dead letter to stand in; dropped',
    );
    if (!replacement) return true;
    return this.deliver([{ ...replacement, replacesRefused: true }]);
  }

  private async sendWithRetry(messages: OutgoingMessage[]): Promise<Attempt> {
    const inFlight: UnacknowledgedSend = { since: this.now(), failedAttempts: 0 };
    this.inFlight = inFlight;
    try {
      for (let attempt = 1; !this.closed; attempt++) {
        const started = Date.now();
        try {
          await this.opts.send(messages);
          this.opts.onBatch?.(messages.length, Date.now() - started);
          return { status: 'sent' };
        } catch (err) {
          const failure = kafkaFailure(err);
          if (failure.kind === 'record-refused' && !messages.every((m) => m.replacesRefused)) {
            this.opts.onSendError?.(err, attempt);
            return { status: 'refused', reason: `refused by kafka: ${failure.type}` };
          }
          inFlight.failedAttempts = attempt;
          inFlight.lastError = err instanceof Error ? err.message : String(err);
          this.opts.onSendError?.(err, attempt);
          const delay = backoffDelay(attempt, this.opts.retryBaseMs ?? 100, this.opts.retryCapMs ?? 5_000);
          this.opts.logger.warn(
            { err, attempt, messages: messages.length, retryInMs: delay },
            'kafka send failed; retrying the batch',
          );
          await sleep(delay);
        }
      }
      return { status: 'closed' };
    } finally {
      this.inFlight = undefined;
    }
  }
}
