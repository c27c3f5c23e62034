import { type Lsn, lsnToBigInt } from '../pgoutput/index.js';

export interface ConfirmGateOptions {
  /** Makes `lsn` durable outside the slot; the slot is confirmed only once it resolved. */
  record(lsn: Lsn): Promise<void>;
  confirm(lsn: Lsn): void;
  onError(err: unknown): void;
  onRecorded?(): void;
}

/**
 * Puts the continuity record ahead of the slot: each confirmation is recorded first and
 * confirmed to PostgreSQL after, one write at a time, the newest position winning. While
 * the record cannot be written the slot is not confirmed and keeps its WAL, so a record
 * read at the next start is never behind the slot by accident.
 */
export class ConfirmGate {
  private wanted: Lsn | undefined;
  private writing = false;
  /** When writes began to fail; undefined while they succeed. */
  failingSince: number | undefined;

  constructor(
    private readonly opts: ConfirmGateOptions,
    private readonly now: () => number = Date.now,
  ) {}

  offer(lsn: Lsn): void {
    if (this.wanted === undefined || lsnToBigInt(lsn) > lsnToBigInt(this.wanted)) this.wanted = lsn;
    if (!this.writing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.wanted !== undefined) {
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
    } finally {
      this.writing = false;
    }
  }
}
