import { compareLsn, type Lsn } from '@fabric/contracts';

export interface ConfirmGateOptions {
  /** Makes `lsn` durable outside the slot; the slot is confirmed only once it resolved. */
  record(lsn: Lsn): Promise<void>;
  confirm(lsn: Lsn): void;
  onError(err: unknown): void;
  onRecorded?(): void;
  /**
   * At most one record write per this many ms (0: back to back). The slot hears of its
   * position only every status interval, so writing more often buys nothing: a write per
   * Kafka acknowledgement (a database query for the timeline, then Redis) was a fifth of
   * the reader's CPU at 1,000 changes/s and ran without pause in a catch-up.
   */
  minIntervalMs?: number;
  /** Waits `ms`; a test passes its own clock. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Puts the continuity record ahead of the slot: each confirmation is recorded first and
 * confirmed to PostgreSQL after, one write at a time, the newest position winning, at most
 * one write per minIntervalMs (a position offered after a quiet spell is written at once).
 * While the record cannot be written the slot is not confirmed and keeps its WAL, so a
 * record read at the next start is never behind the slot by accident.
 */
export class ConfirmGate {
  private wanted: Lsn | undefined;
  private writing: Promise<void> | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private readonly sleep: (ms: number) => Promise<void>;
  /** When writes began to fail; undefined while they succeed. */
  failingSince: number | undefined;

  constructor(
    private readonly opts: ConfirmGateOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  offer(lsn: Lsn): void {
    if (this.wanted === undefined || compareLsn(lsn, this.wanted) > 0) this.wanted = lsn;
    this.writing ??= this.drain().finally(() => (this.writing = undefined));
  }

  /** Records and confirms what was offered, without waiting out the interval: before the stream stops. */
  async flush(): Promise<void> {
    this.lastWriteAt = Number.NEGATIVE_INFINITY;
    await this.writing;
    if (this.wanted !== undefined) {
      this.writing ??= this.drain().finally(() => (this.writing = undefined));
      await this.writing;
    }
  }

  private async drain(): Promise<void> {
    while (this.wanted !== undefined) {
      const wait = this.lastWriteAt + (this.opts.minIntervalMs ?? 0) - this.now();
      if (wait > 0) await this.sleep(wait);
      this.lastWriteAt = this.now();
      const lsn = this.wanted;
      try {
        await this.opts.record(lsn);
      } catch (err) {
        this.failingSince ??= this.now();
        this.opts.onError(err);
        return; // the next offer (every status interval) tries again
      }
      this.failingSince = undefined;
      this.opts.onRecorded?.();
      if (this.wanted === lsn) this.wanted = undefined;
      this.opts.confirm(lsn);
    }
  }
}
