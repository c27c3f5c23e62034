import type { Lsn } from '@fabric/contracts';
import type { PgoutputTag } from './messages.js';

/**
 * Orders keepalives with the data messages around them.
 *
 * pg-logical-replication emits a keepalive the moment it is read, while XLogData messages
 * read before it may still be queued behind a slow handler. A caller that confirmed that
 * keepalive's WAL end "because nothing is in flight" could then skip those queued messages.
 * The gate holds a keepalive back until every message received before it has been handled,
 * and drops it if that point is inside a transaction (between BEGIN and COMMIT).
 */
export class KeepaliveGate {
  private receivedCount = 0;
  private handledCount = 0;
  private inTxn = false;
  private pending: { walEnd: Lsn; seq: number } | null = null;

  constructor(private readonly deliver: (walEnd: Lsn) => void) {}

  get received(): number {
    return this.receivedCount;
  }

  get handled(): number {
    return this.handledCount;
  }

  /** Whether the handled messages end inside a transaction. */
  get insideTransaction(): boolean {
    return this.inTxn;
  }

  /** An XLogData message arrived (call in arrival order, before it is queued). */
  onReceived(): void {
    this.receivedCount++;
  }

  /** The handler finished the oldest unhandled message. */
  onHandled(tag: PgoutputTag): void {
    this.handledCount++;
    if (tag === 'begin') this.inTxn = true;
    else if (tag === 'commit') this.inTxn = false;
    this.flush();
  }

  /** A primary keepalive arrived. A newer one replaces one still held back. */
  onKeepalive(walEnd: Lsn): void {
    this.pending = { walEnd, seq: this.receivedCount };
    this.flush();
  }

  private flush(): void {
    const pending = this.pending;
    if (!pending || this.handledCount < pending.seq) return;
    this.pending = null;
    if (!this.inTxn) this.deliver(pending.walEnd);
  }
}
