import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '@fabric/runtime';
import type { Logger } from 'pino';

export interface OutgoingMessage {
  topic: string;
  key: string;
  value: Uint8Array;
  partition?: number;
}

/** Sends one batch and resolves only when the broker acknowledged all of it (acks=all). */
export type SendBatch = (messages: OutgoingMessage[]) => Promise<void>;

export interface PublisherOptions {
  send: SendBatch;
  /** Called in LSN order with the newest commit whose every message is acknowledged. */
  onConfirmed: (lsn: string) => void;
  logger: Logger;
  maxBatch: number;
  lingerMs: number;
  /** Above this many unsent messages, enqueue() waits: backpressure onto the WAL stream. */
  maxPending?: number;
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

type Item = { type: 'message'; message: OutgoingMessage } | { type: 'commit'; lsn: string };

/**
 * Batches messages to Kafka and turns acknowledgements into confirmed commit LSNs. The
 * queue holds messages and commit markers in WAL order; one batch is in flight at a time,
 * so a marker is confirmed only after every message queued before it was acknowledged.
 * A failed batch is retried (capped backoff with jitter) until it succeeds or the reader
 * stops: nothing is skipped, which is what makes the slot confirmation safe.
 */
export class Publisher {
  private readonly queue: Item[] = [];
  private pendingMessages = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private drained: Array<() => void> = [];
  private closed = false;
  private inFlight: UnacknowledgedSend | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: PublisherOptions) {
    this.now = opts.now ?? Date.now;
  }

  async enqueue(message: OutgoingMessage): Promise<void> {
    this.queue.push({ type: 'message', message });
    this.pendingMessages++;
    this.schedule();
    if (this.pendingMessages >= (this.opts.maxPending ?? 20_000)) {
      await new Promise<void>((resolve) => this.drained.push(resolve));
    }
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
    if (this.pendingMessages >= this.opts.maxBatch || this.opts.lingerMs === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
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
      // Take messages up to maxBatch, plus the commit markers among and right after them.
      let take = 0;
      let messages = 0;
      while (take < this.queue.length) {
        const item = this.queue[take]!;
        if (item.type === 'message') {
          if (messages === this.opts.maxBatch) break;
          messages++;
        }
        take++;
      }
      const batch = this.queue.slice(0, take);
      const outgoing = batch.flatMap((i) => (i.type === 'message' ? [i.message] : []));
      if (outgoing.length > 0 && !(await this.sendWithRetry(outgoing))) return;
      this.queue.splice(0, take);
      this.pendingMessages -= outgoing.length;
      const lastCommit = batch.findLast((i) => i.type === 'commit');
      if (lastCommit?.type === 'commit') this.opts.onConfirmed(lastCommit.lsn);
      if (this.pendingMessages < (this.opts.maxPending ?? 20_000))
        this.drained.splice(0).forEach((resolve) => resolve());
    }
  }

  private async sendWithRetry(messages: OutgoingMessage[]): Promise<boolean> {
    const inFlight: UnacknowledgedSend = { since: this.now(), failedAttempts: 0 };
    this.inFlight = inFlight;
    try {
      for (let attempt = 1; !this.closed; attempt++) {
        const started = Date.now();
        try {
          await this.opts.send(messages);
          this.opts.onBatch?.(messages.length, Date.now() - started);
          return true;
        } catch (err) {
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
      return false;
    } finally {
      this.inFlight = undefined;
    }
  }
}
