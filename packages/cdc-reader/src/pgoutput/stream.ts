/**
 * A pgoutput replication stream on top of pg-logical-replication's connection handling, with
 * our own decoder and our own, conservative standby status (acknowledgement) logic. This file
 * is the stream's lifecycle (idle -> starting -> streaming -> stopping -> closed); what is
 * reported when lives in standby-status.ts, every reach into the library in
 * replication-connection.ts.
 *
 * LSN semantics (checked on PostgreSQL 15, see test/cdc/pgoutput.test.ts):
 * - Each XLogData carries a position: BEGIN -> first LSN of the transaction (can be LOWER
 *   than the previous COMMIT's end when transactions interleave), a row change -> the start
 *   of its WAL record, MESSAGE -> the END of its record (= LogicalMessage.lsn, what
 *   pg_logical_emit_message returned), COMMIT -> the END of the commit record (equal to
 *   CommitMessage.endLsn), RELATION/TYPE -> 0/0. Only COMMIT ends and non-transactional
 *   message LSNs are meaningful to confirm.
 * - The flush position we report becomes the slot's confirmed_flush_lsn. On reconnect the
 *   server skips every transaction whose commit record STARTS before it. So confirming a
 *   COMMIT's endLsn marks exactly that transaction (and everything before) as done, and a
 *   transaction whose commit record starts right at that position is still delivered.
 * - pg-logical-replication's acknowledge() reports lsn + 1. That is NOT used here: confirming
 *   endLsn + 1 would silently skip a transaction whose commit record directly follows
 *   (its commit starts at endLsn). The status message is built here with the exact position.
 * - A non-transactional message's LSN is the end of its record: confirming it marks that
 *   message done (not redelivered after a reconnect), like a COMMIT's endLsn.
 */

import type { Lsn } from '@fabric/contracts';
import type { Logger } from 'pino';
import { ReplicationStreamError } from './errors.js';
import { Inbound, type MessageHandler, type Parsed } from './inbound.js';
import { settlesWithin } from './promises.js';
import { ReplicationConnection } from './replication-connection.js';
import { StandbyStatus } from './standby-status.js';
import { startReplicationSql } from './start-replication.js';

import type { ReplicationStreamOptions, ReplicationStreamState, ReplicationStreamStats } from './stream-options.js';

export type { MessageHandler } from './inbound.js';
export type { ReplicationStreamOptions, ReplicationStreamState, ReplicationStreamStats } from './stream-options.js';

export class ReplicationStream {
  /** Settles once the stream is closed: undefined after stop(), the cause after a failure. Never rejects. */
  readonly closed: Promise<Error | undefined>;
  private readonly startSql: string;
  private readonly log: Logger;
  private readonly stopTimeoutMs: number;
  private readonly status: StandbyStatus;
  private state: ReplicationStreamState = 'idle';
  private connection: ReplicationConnection<Parsed> | null = null;
  /** The connection is in COPY BOTH mode: status updates can be sent and the COPY must be ended. */
  private copyBoth = false;
  private ended: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private inbound: Inbound | null = null;
  private resolveClosed!: (err: Error | undefined) => void;
  private failure: Error | undefined;
  private startWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;

  constructor(private readonly opts: ReplicationStreamOptions) {
    this.log = opts.logger.child({ component: 'replication-stream', slot: opts.slot });
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
    this.status = new StandbyStatus({
      statusIntervalMs: opts.statusIntervalMs,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
    });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    // Built (and so validated) once, at construction: bad names fail before any connection.
    this.startSql = startReplicationSql(opts.slot, opts.publication);
  }

  /** The position last given to confirm() (what the stream reports as flushed), "0/0" if none. */
  get confirmedLsn(): Lsn {
    return this.status.confirmed;
  }

  /** The flush position last sent to the server. */
  get reportedLsn(): Lsn {
    return this.status.reported;
  }

  /** Counters for metrics and tests. */
  stats(): ReplicationStreamStats {
    return {
      state: this.state,
      ...(this.inbound?.counters() ?? { received: 0, handled: 0, keepalives: 0, replyRequests: 0 }),
      statusUpdates: this.status.updatesSent,
      confirmedLsn: this.status.confirmed,
      reportedLsn: this.status.reported,
      lastSeenLsn: this.status.seen,
    };
  }

  /**
   * Connects and starts streaming from the slot's confirmed_flush_lsn. Resolves once the
   * server accepted START_REPLICATION; rejects if it did not (missing slot, slot in use...).
   * `handler` is awaited for each message in order; if it throws the stream fails (closed
   * settles with the error) and nothing after that message is handled.
   */
  start(handler: MessageHandler): Promise<void> {
    if (this.state !== 'idle')
      return Promise.reject(
        new ReplicationStreamError(`start() called on a ${this.state} stream; a ReplicationStream is single-use`),
      );
    this.state = 'starting';
    const inbound = new Inbound({
      handler,
      status: this.status,
      active: () => this.state === 'streaming',
      reply: () => this.sendStatus('keepalive'),
      fail: (err) => this.fail(err),
      onKeepalive: this.opts.onKeepalive,
    });
    this.inbound = inbound;
    const connection = new ReplicationConnection<Parsed>({
      connectionString: this.opts.connectionString,
      slot: this.opts.slot,
      startSql: this.startSql,
      logger: this.log,
      events: {
        parse: (payload) => inbound.parse(payload),
        started: () => this.onStarted(),
        data: (lsn, parsed) => inbound.data(lsn, parsed),
        keepalive: (walEnd, replyRequested) => inbound.keepalive(walEnd, replyRequested),
        error: (err) => this.fail(err),
      },
    });
    this.connection = connection;
    const started = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    this.ended = connection.open().then((err) => this.onEnded(err));
    return started;
  }

  /**
   * Everything up to and including `lsn` is durable downstream. For a transaction, pass its
   * COMMIT's endLsn. Monotonic (a lower value is ignored). Sent to the server at most every
   * statusIntervalMs, at once on a keepalive request, and on stop(). Throws if `lsn` is
   * beyond anything the server has sent (that would make the server skip unseen changes).
   */
  confirm(lsn: Lsn): void {
    if (this.status.confirm(lsn)) this.sendStatus('confirm');
  }

  /** Graceful: waits briefly for a running handler, reports the confirmed position, ends the COPY and closes. */
  async stop(): Promise<void> {
    if (this.state === 'idle') return this.finish(undefined);
    if (this.state === 'closed' || this.state === 'stopping') {
      await this.closed;
      return;
    }
    this.leaveRunning(new ReplicationStreamError('stopped before replication started'));
    const running = this.inbound?.running;
    if (running) await settlesWithin(running, this.stopTimeoutMs);
    await this.shutdown('stop');
    this.log.info({ confirmed: this.confirmedLsn }, 'replication stopped');
    this.finish(undefined);
  }

  // ---------------------------------------------------------------------------------------

  private onStarted(): void {
    if (this.state !== 'starting') return;
    this.state = 'streaming';
    this.copyBoth = true;
    this.timer = setInterval(() => this.tick(), this.status.tickMs);
    this.timer.unref();
    this.log.info('replication started');
    this.startWaiter?.resolve();
    this.startWaiter = null;
  }

  private tick(): void {
    if (this.state !== 'streaming') return;
    const due = this.status.due();
    if (due) this.sendStatus(due);
  }

  private sendStatus(reason: string): void {
    const connection = this.connection;
    if (!connection || !this.copyBoth || (this.state !== 'streaming' && this.state !== 'stopping')) return;
    try {
      const flush = this.status.send((message) => connection.sendCopyData(message));
      this.log.debug({ reason, flush }, 'standby status sent');
    } catch (err) {
      this.log.warn({ err, reason }, 'could not send standby status');
    }
  }

  private onEnded(err: Error | undefined): void {
    if (this.state === 'stopping' || this.state === 'closed') return;
    this.fail(err ?? new ReplicationStreamError('replication stream ended by the server'));
  }

  private fail(err: Error): void {
    if (this.state === 'closed' || this.failure) return;
    if (this.state === 'stopping') {
      this.log.debug({ err }, 'error while stopping');
      return;
    }
    this.failure = err;
    this.log.error({ err, confirmed: this.confirmedLsn }, 'replication stream failed');
    this.leaveRunning(err);
    // What confirm() got is durable by the caller's word; report it if the connection still works.
    void this.shutdown('failure').then(() => this.finish(err));
  }

  /** starting/streaming -> stopping: no more ticks, and a start() still waiting learns `why`. */
  private leaveRunning(why: Error): void {
    if (this.state === 'starting') {
      this.startWaiter?.reject(why);
      this.startWaiter = null;
    }
    this.state = 'stopping';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Reports the confirmed position, ends the COPY (so the server reads the status before
   * the connection goes; closing the socket at once could lose it) and closes the connection.
   */
  private async shutdown(reason: string): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    if (this.copyBoth) {
      this.sendStatus(reason);
      try {
        connection.endCopy();
      } catch (err) {
        this.log.debug({ err }, 'could not end the COPY cleanly');
      }
      if (!(await settlesWithin(this.ended, this.stopTimeoutMs)))
        this.log.warn('server did not end replication in time; closing the socket');
    }
    this.copyBoth = false;
    // An error while closing changes nothing: the connection is gone either way.
    await settlesWithin(connection.destroy(), this.stopTimeoutMs);
  }

  private finish(err: Error | undefined): void {
    this.state = 'closed';
    this.resolveClosed(err);
  }
}
