/**
 * What the reader tells the server about its progress (standby status updates, 'r'), and
 * when. Pure: no I/O and an injected clock, so every rule below is unit-tested.
 *
 * - `confirmed` is the position the caller declared durable downstream; it is reported as
 *   write = flush = apply, exactly, never + 1 (see the LSN notes in stream.ts).
 * - `seen` is the highest position the server has shown us; confirming past it is refused,
 *   since the server would then skip changes it never sent.
 * - An update goes out at most every `statusIntervalMs` after progress, at least every
 *   `heartbeatIntervalMs` without progress (so wal_sender_timeout never fires while a slow
 *   handler blocks reading), and whenever the caller asks (keepalive reply, shutdown).
 */

import { bigIntToLsn, compareLsn, type Lsn, lsnToBigInt, normalizeLsn, ZERO_LSN } from '@fabric/contracts';
import { ReplicationStreamError } from './errors.js';
import { PG_EPOCH_UNIX_MICROS } from './messages.js';

/**
 * Standby status update ('r'): write, flush and apply positions, client clock in
 * microseconds since 2000-01-01, reply-requested flag. The parameters are the message's
 * fields in wire order.
 */
export function standbyStatusUpdate(
  write: bigint,
  flush: bigint,
  apply: bigint,
  nowMs: number = Date.now(),
  replyRequested = false,
): Buffer {
  const buf = Buffer.alloc(34);
  buf.write('r', 0, 'latin1');
  buf.writeBigUInt64BE(write, 1);
  buf.writeBigUInt64BE(flush, 9);
  buf.writeBigUInt64BE(apply, 17);
  buf.writeBigInt64BE(BigInt(Math.floor(nowMs)) * 1000n - PG_EPOCH_UNIX_MICROS, 25);
  buf.writeUInt8(replyRequested ? 1 : 0, 33);
  return buf;
}

export interface StandbyStatusOptions {
  /** At most one update per interval after confirm(). Default 1000. */
  statusIntervalMs?: number;
  /** An update at least this often even without progress. Default 10000. */
  heartbeatIntervalMs?: number;
  now?: () => number;
}

/** Why an update is due on a timer tick. */
export type StatusDue = 'interval' | 'heartbeat';

export class StandbyStatus {
  readonly statusIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  private readonly now: () => number;
  private confirmedPos = 0n;
  /** As the server sent it: compared per message without a BigInt, parsed only when a position is confirmed. */
  private seenLsn: Lsn = ZERO_LSN;
  private lastSentFlush = 0n;
  private lastSentAt = 0;
  private sentCount = 0;

  constructor(opts: StandbyStatusOptions = {}) {
    this.statusIntervalMs = opts.statusIntervalMs ?? 1000;
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** How often a timer should call due(). */
  get tickMs(): number {
    return Math.max(50, Math.min(this.statusIntervalMs, this.heartbeatIntervalMs));
  }

  /** The position last given to confirm(), "0/0" if none. */
  get confirmed(): Lsn {
    return bigIntToLsn(this.confirmedPos);
  }

  /** The flush position last sent to the server. */
  get reported(): Lsn {
    return bigIntToLsn(this.lastSentFlush);
  }

  /** Highest position the server has sent (data, COMMIT end or keepalive). */
  get seen(): Lsn {
    return normalizeLsn(this.seenLsn);
  }

  get updatesSent(): number {
    return this.sentCount;
  }

  /** The server showed us `lsn` (an XLogData position, a COMMIT's end, a keepalive's WAL end). */
  see(lsn: Lsn): void {
    if (compareLsn(lsn, this.seenLsn) > 0) this.seenLsn = lsn;
  }

  /**
   * Everything up to and including `lsn` is durable downstream. Monotonic (a lower value is
   * ignored). Returns true when an update should go out now (the interval has passed).
   * Throws if `lsn` is beyond anything the server has sent.
   */
  confirm(lsn: Lsn): boolean {
    const value = lsnToBigInt(lsn);
    if (value > lsnToBigInt(this.seenLsn)) {
      throw new ReplicationStreamError(
        `confirm(${lsn}) is beyond the last position received from the server (${this.seen})`,
      );
    }
    if (value <= this.confirmedPos) return false;
    this.confirmedPos = value;
    return this.now() - this.lastSentAt >= this.statusIntervalMs;
  }

  /** Whether a timer tick should send an update, and why. */
  due(): StatusDue | undefined {
    const since = this.now() - this.lastSentAt;
    if (this.confirmedPos > this.lastSentFlush && since >= this.statusIntervalMs) return 'interval';
    if (since >= this.heartbeatIntervalMs) return 'heartbeat';
    return undefined;
  }

  /**
   * Builds the update for the confirmed position and hands it to `write`; counts it as sent
   * only if `write` returns without throwing. Returns the flush position sent.
   *
   * write = flush = apply = exactly what confirm() got (0/0 = "nothing yet", which the server
   * ignores). Reporting write = what we received would also be legal, but while the reported
   * write AND flush are behind its send position an idle walsender keeps sending keepalives,
   * which is what lets an idle slot advance on keepalives; a higher write would silence them.
   */
  send(write: (message: Buffer) => void): Lsn {
    const flush = this.confirmedPos;
    const now = this.now();
    write(standbyStatusUpdate(flush, flush, flush, now));
    this.lastSentAt = now;
    this.lastSentFlush = flush;
    this.sentCount++;
    return bigIntToLsn(flush);
  }
}
