/**
 * A pgoutput replication stream on top of pg-logical-replication's connection handling, with
 * our own decoder and our own, conservative standby status (acknowledgement) logic.
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

import type pg from 'pg';
import { LogicalReplicationService } from 'pg-logical-replication';
import type { Logger } from 'pino';
import { PgoutputDecoder } from './decoder.js';
import { KeepaliveGate } from './keepalive-gate.js';
import { bigIntToLsn, type Lsn, lsnToBigInt } from './lsn.js';
import type { PgoutputMessage } from './messages.js';
import { PG_EPOCH_UNIX_MICROS } from './messages.js';

export type MessageHandler = (lsn: Lsn, msg: PgoutputMessage) => Promise<void> | void;

export interface ReplicationStreamOptions {
  connectionString: string;
  slot: string;
  publication: string;
  logger: Logger;
  /** At most one status update per interval after confirm(); replies to keepalive requests are immediate. Default 1000. */
  statusIntervalMs?: number;
  /** A status update is sent at least this often even without progress, so wal_sender_timeout never fires while a slow handler blocks reading. Default 10000. */
  heartbeatIntervalMs?: number;
  /**
   * Called with a primary keepalive's WAL end once every message received before that
   * keepalive has been handled, and only outside a transaction (after a COMMIT, never
   * between BEGIN and COMMIT). If the caller has nothing in flight, it may confirm(walEnd):
   * this lets an idle slot (all changes filtered out, or skipped empty transactions)
   * release WAL. Keepalives are dropped, not queued, when inside a transaction.
   */
  onKeepalive?: (walEnd: Lsn) => void;
  /** How long stop() waits for a running handler and for the server to end the COPY. Default 5000. */
  stopTimeoutMs?: number;
}

type State = 'idle' | 'starting' | 'streaming' | 'stopping' | 'closed';

export interface ReplicationStreamStats {
  state: State;
  /** XLogData messages received / handled (handler resolved). */
  received: number;
  handled: number;
  /** Primary keepalives received, and how many of them requested a reply. */
  keepalives: number;
  replyRequests: number;
  /** Standby status updates sent. */
  statusUpdates: number;
  confirmedLsn: Lsn;
  /** Flush position last sent to the server. */
  reportedLsn: Lsn;
  /** Highest position the server has sent (data or keepalive). */
  lastSeenLsn: Lsn;
}

type Parsed = { ok: true; msg: PgoutputMessage } | { ok: false; error: Error };

const SLOT_NAME_RE = /^[a-z0-9_]{1,63}$/;

/** START_REPLICATION for pgoutput v1. Publication names are quoted (the server would downcase them otherwise). */
export function startReplicationSql(slot: string, publication: string, startLsn: Lsn = '0/0'): string {
  if (!SLOT_NAME_RE.test(slot))
    throw new Error(`invalid replication slot name ${JSON.stringify(slot)} (lower-case letters, digits, underscores)`);
  if (!publication) throw new Error('publication name is empty');
  const start = bigIntToLsn(lsnToBigInt(startLsn));
  const pubIdent = `"${publication.replace(/"/g, '""')}"`.replace(/'/g, "''");
  return `START_REPLICATION SLOT "${slot}" LOGICAL ${start} (proto_version '1', publication_names '${pubIdent}', messages 'true')`;
}

/**
 * Standby status update ('r'): write, flush and apply positions, client clock in
 * microseconds since 2000-01-01, reply-requested flag.
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

export class ReplicationStreamError extends Error {
  override readonly name = 'ReplicationStreamError';
}

interface PgConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  stream?: { resume?: () => void };
}

export class ReplicationStream {
  /** Settles once the stream is closed: undefined after stop(), the cause after a failure. Never rejects. */
  readonly closed: Promise<Error | undefined>;
  private readonly startSql: string;

  private readonly log: Logger;
  private readonly statusIntervalMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly stopTimeoutMs: number;
  private state: State = 'idle';
  private service: LogicalReplicationService | null = null;
  private client: pg.Client | null = null;
  private copyBoth = false;
  private subscribeDone: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<unknown> | null = null;
  private resolveClosed!: (err: Error | undefined) => void;
  private failure: Error | undefined;
  private startWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;

  private confirmed = 0n;
  private lastSentFlush = 0n;
  private lastSentAt = 0;
  /** Highest position the server has shown us (XLogData, COMMIT end, keepalive walEnd). */
  private seen = 0n;
  private readonly gate: KeepaliveGate;
  private keepalives = 0;
  private replyRequests = 0;
  private statusUpdates = 0;

  constructor(private readonly opts: ReplicationStreamOptions) {
    this.log = opts.logger.child({ component: 'replication-stream', slot: opts.slot });
    this.statusIntervalMs = opts.statusIntervalMs ?? 1000;
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 10_000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.gate = new KeepaliveGate((walEnd) => {
      try {
        this.opts.onKeepalive?.(walEnd);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    // Built (and so validated) once, at construction: bad names fail before any connection.
    this.startSql = startReplicationSql(opts.slot, opts.publication);
  }

  /** The position last given to confirm() (what the stream reports as flushed), "0/0" if none. */
  get confirmedLsn(): Lsn {
    return bigIntToLsn(this.confirmed);
  }

  /** The flush position last sent to the server. */
  get reportedLsn(): Lsn {
    return bigIntToLsn(this.lastSentFlush);
  }

  /** Counters for metrics and tests. */
  stats(): ReplicationStreamStats {
    return {
      state: this.state,
      received: this.gate.received,
      handled: this.gate.handled,
      keepalives: this.keepalives,
      replyRequests: this.replyRequests,
      statusUpdates: this.statusUpdates,
      confirmedLsn: this.confirmedLsn,
      reportedLsn: this.reportedLsn,
      lastSeenLsn: bigIntToLsn(this.seen),
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
    const decoder = new PgoutputDecoder();
    const service = new LogicalReplicationService(
      { connectionString: this.opts.connectionString },
      // auto:false + timeoutSeconds:0: the library must never acknowledge on its own (its timer
      // confirms the last RECEIVED lsn + 1). flowControl: await async handlers, pause the socket.
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.service = service;
    const sql = this.startSql;
    const plugin = {
      options: {},
      name: 'pgoutput',
      // Called synchronously, in arrival order, for every XLogData payload.
      parse: (buf: Buffer): Parsed => {
        this.gate.onReceived();
        try {
          return { ok: true, msg: decoder.decode(buf) };
        } catch (err) {
          // Never throw here: it would escape from the socket's data event.
          return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
        }
      },
      start: (client: pg.Client, _slot: string, _lsn: string) => {
        this.client = client;
        this.log.info({ sql }, 'starting replication');
        return client.query(sql);
      },
    };

    service.on('error', (err: Error) => this.fail(err));
    service.on('start', () => {
      if (this.state !== 'starting') return;
      this.state = 'streaming';
      this.copyBoth = true;
      this.timer = setInterval(
        () => this.tick(),
        Math.max(50, Math.min(this.statusIntervalMs, this.heartbeatIntervalMs)),
      );
      this.timer.unref();
      this.log.info('replication started');
      this.startWaiter?.resolve();
      this.startWaiter = null;
    });
    service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => this.onHeartbeat(lsn, shouldRespond));
    service.on('data', (lsn: string, parsed: Parsed) => this.onData(lsn, parsed, handler));

    const started = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    this.subscribeDone = service
      .subscribe(plugin as unknown as Parameters<LogicalReplicationService['subscribe']>[0], this.opts.slot)
      .then(
        () => this.onEnded(undefined),
        (err: unknown) => this.onEnded(err instanceof Error ? err : new Error(String(err))),
      );
    return started;
  }

  /**
   * Everything up to and including `lsn` is durable downstream. For a transaction, pass its
   * COMMIT's endLsn. Monotonic (a lower value is ignored). Sent to the server at most every
   * statusIntervalMs, at once on a keepalive request, and on stop(). Throws if `lsn` is
   * beyond anything the server has sent (that would make the server skip unseen changes).
   */
  confirm(lsn: Lsn): void {
    const value = lsnToBigInt(lsn);
    if (value > this.seen) {
      throw new ReplicationStreamError(
        `confirm(${lsn}) is beyond the last position received from the server (${bigIntToLsn(this.seen)})`,
      );
    }
    if (value <= this.confirmed) return;
    this.confirmed = value;
    if (Date.now() - this.lastSentAt >= this.statusIntervalMs) this.sendStatus('confirm');
  }

  /** Graceful: waits briefly for a running handler, reports the confirmed position, ends the COPY and closes. */
  async stop(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'closed';
      this.resolveClosed(undefined);
      return;
    }
    if (this.state === 'closed' || this.state === 'stopping') {
      await this.closed;
      return;
    }
    const wasStarting = this.state === 'starting';
    this.state = 'stopping';
    this.clearTimer();
    if (wasStarting) {
      this.startWaiter?.reject(new ReplicationStreamError('stopped before replication started'));
      this.startWaiter = null;
    }
    if (this.current)
      await withTimeout(
        this.current.catch(() => undefined),
        this.stopTimeoutMs,
      );
    await this.shutdown('stop');
    this.log.info({ confirmed: this.confirmedLsn }, 'replication stopped');
    this.finish(undefined);
  }

  // ---------------------------------------------------------------------------------------

  private async onData(lsn: string, parsed: Parsed, handler: MessageHandler): Promise<void> {
    if (this.state !== 'streaming') return; // stopping or failed: nothing after this is handled
    if (!parsed.ok) {
      this.fail(parsed.error);
      return;
    }
    const msg = parsed.msg;
    this.see(lsnToBigInt(lsn));
    if (msg.tag === 'commit') this.see(lsnToBigInt(msg.endLsn));
    try {
      const p = Promise.resolve(handler(lsn, msg));
      this.current = p;
      await p;
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    } finally {
      this.current = null;
    }
    if (this.state === 'streaming') this.gate.onHandled(msg.tag);
  }

  private onHeartbeat(walEnd: string, shouldRespond: boolean): void {
    if (this.state !== 'streaming') return;
    this.see(lsnToBigInt(walEnd));
    this.keepalives++;
    if (shouldRespond) {
      this.replyRequests++;
      this.sendStatus('keepalive');
    }
    if (this.opts.onKeepalive) this.gate.onKeepalive(walEnd);
  }

  private see(value: bigint): void {
    if (value > this.seen) this.seen = value;
  }

  private tick(): void {
    if (this.state !== 'streaming') return;
    const now = Date.now();
    if (this.confirmed > this.lastSentFlush && now - this.lastSentAt >= this.statusIntervalMs)
      this.sendStatus('interval');
    else if (now - this.lastSentAt >= this.heartbeatIntervalMs) this.sendStatus('heartbeat');
  }

  private connection(): PgConnection | undefined {
    return (this.client as unknown as { connection?: PgConnection } | null)?.connection;
  }

  private sendStatus(reason: string): void {
    if (!this.copyBoth || (this.state !== 'streaming' && this.state !== 'stopping')) return;
    const conn = this.connection();
    if (!conn) return;
    // write = flush = apply = exactly what confirm() got (0/0 = "nothing yet", which the server
    // ignores). Reporting write = what we received would also be legal, but while the reported
    // write AND flush are behind its send position an idle walsender keeps sending keepalives,
    // which is what lets onKeepalive() advance an idle slot; a higher write would silence them.
    const flush = this.confirmed;
    const write = flush;
    try {
      conn.sendCopyFromChunk(standbyStatusUpdate(write, flush, flush));
      this.lastSentAt = Date.now();
      this.statusUpdates++;
      this.lastSentFlush = flush;
      this.log.debug({ reason, flush: bigIntToLsn(flush), write: bigIntToLsn(write) }, 'standby status sent');
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
    const wasStarting = this.state === 'starting';
    this.state = 'stopping';
    this.clearTimer();
    this.log.error({ err, confirmed: this.confirmedLsn }, 'replication stream failed');
    if (wasStarting) {
      this.startWaiter?.reject(err);
      this.startWaiter = null;
    }
    // What confirm() got is durable by the caller's word; report it if the connection still works.
    void this.shutdown('failure').then(() => this.finish(err));
  }

  /**
   * Reports the confirmed position, ends the COPY (so the server reads the status before
   * the connection goes; closing the socket at once could lose it) and closes the connection.
   */
  private async shutdown(reason: string): Promise<void> {
    if (this.copyBoth) {
      this.sendStatus(reason);
      const conn = this.connection();
      try {
        conn?.endCopyFrom();
        conn?.stream?.resume?.(); // flow control may have paused reading; the server's CopyDone must be read
      } catch (err) {
        this.log.debug({ err }, 'could not end the COPY cleanly');
      }
      const ended = await withTimeout(this.subscribeDone, this.stopTimeoutMs);
      if (!ended) this.log.warn('server did not end replication in time; closing the socket');
    }
    await this.teardown();
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async teardown(): Promise<void> {
    const service = this.service;
    this.copyBoth = false;
    if (!service) return;
    try {
      await withTimeout(service.destroy(), this.stopTimeoutMs);
    } catch (err) {
      this.log.debug({ err }, 'error while closing the replication connection');
    }
  }

  private finish(err: Error | undefined): void {
    this.state = 'closed';
    this.resolveClosed(err);
  }
}

/** True if `p` settled within `ms`. */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
