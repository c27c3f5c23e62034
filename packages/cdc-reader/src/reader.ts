import {
  compareLsn,
  type Lsn,
  lsnToBigInt,
  OUTBOX_TABLE,
  type ReaderContinuity,
  type ReaderStatus,
} from '@fabric/contracts';
import { create, DeadLetterSchema, Operation, timestampFromDate, toBinary } from '@fabric/proto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { ChangeMapper, type CommitContext } from './change-mapper.js';
import type { ReaderConfig } from './config.js';
import { encodeInvalidationEvent } from './event-encoding.js';
import { readerVerdict } from './health.js';
import { HeartbeatWriter } from './heartbeat.js';
import type { ReaderMetrics } from './metrics.js';
import { OutputLimits, refusedDeadLetter } from './output-limits.js';
import type { Output } from './outputs.js';
import type { PgoutputMessage, ReplicationStream } from './pgoutput/index.js';
import { Publisher, type SendBatch } from './publisher.js';
import { MessageRelay } from './relay.js';
import type { KeyRules } from './rules/index.js';
import { SkippedChanges } from './skipped-changes.js';

export interface ReaderDeps {
  config: ReaderConfig;
  rules: KeyRules;
  logger: Logger;
  metrics: ReaderMetrics;
  /** Pool on the region's database: heartbeats and relays (home) and lag probes. */
  pool: pg.Pool;
  stream: ReplicationStream;
  send: SendBatch;
  /** Partitions of the region's topic: heartbeats go to each. */
  partitions: number;
  /**
   * Where confirmations go: the continuity gate, which records them before it confirms
   * the slot. Default: straight to the slot (continuity off).
   */
  confirm?: (lsn: Lsn) => void;
  /** Resolves once what went to `confirm` reached the slot (the gate writes its record at an interval). */
  settleConfirmations?: () => Promise<void>;
  /** What the continuity check at this start found, for /healthz. */
  continuity?: ReaderContinuity;
  /** Since when the continuity record could not be written (confirmations are held meanwhile). */
  recordFailingSince?: () => number | undefined;
}

/**
 * One region's CDC reader: WAL stream → mapper → publisher → slot confirmation.
 * The slot is confirmed only with LSNs the publisher reports as fully acknowledged.
 */
export class CdcReader {
  private readonly mapper: ChangeMapper;
  private readonly publisher: Publisher;
  private readonly heartbeat: HeartbeatWriter | undefined;
  private readonly relay: MessageRelay;
  private readonly limits: OutputLimits;
  private commit: CommitContext | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private confirmed: Lsn | undefined;
  /** ms since the epoch: a Date per event was measurable during a catch-up. */
  private lastEventAt: number | undefined;

  constructor(private readonly deps: ReaderDeps) {
    const { config, metrics, logger } = deps;
    const skipped = new SkippedChanges(metrics.skipped, logger);
    this.mapper = new ChangeMapper(
      deps.rules,
      config.region,
      config.home && config.replication === 'logical',
      () => new Date(),
      (s) => skipped.record(s),
      config.home || config.replication === 'physical',
    );
    this.relay = new MessageRelay(deps.pool, config.region);
    this.limits = new OutputLimits(config.limits, config.region, () => new Date(), {
      split: (event, parts) => {
        metrics.eventParts.inc(parts);
        logger.info(
          { eventId: event.id, table: event.table, lsn: event.sourceLsn, parts },
          'event above --max-event-bytes published in parts',
        );
      },
      truncated: (letter, bytes) => {
        metrics.deadLettersTruncated.inc();
        logger.warn(
          { table: letter.table, lsn: letter.sourceLsn, bytes },
          'dead letter above --max-dead-letter-bytes sent as a reference, without the row',
        );
      },
    });
    this.publisher = new Publisher({
      send: deps.send,
      logger,
      maxBatch: config.maxBatch,
      maxBatchBytes: config.limits.batchBytes,
      maxPendingBytes: config.maxPendingBytes,
      onRefused: (message, reason) => {
        metrics.deadLetters.inc();
        metrics.refused.inc({ topic: message.topic === config.deadLetterTopic ? 'dead-letter' : 'events' });
        return refusedDeadLetter(
          config.region,
          message,
          reason,
          config.deadLetterTopic,
          new Date(),
          config.limits.eventBytes,
        );
      },
      lingerMs: config.lingerMs,
      onConfirmed: (lsn) => this.confirm(lsn),
      onBatch: (size, ms) => {
        metrics.batches.observe(size);
        metrics.batchSeconds.observe(ms / 1000);
      },
      onSendError: () => metrics.errors.inc({ kind: 'kafka' }),
    });
    if (config.home && config.heartbeatMs > 0) {
      this.heartbeat = new HeartbeatWriter({
        pool: deps.pool,
        periodMs: config.heartbeatMs,
        logger,
        onError: () => metrics.errors.inc({ kind: 'heartbeat' }),
        standbySnapshotMs: config.replication === 'physical' ? 2_000 : 0,
      });
    }
  }

  async start(): Promise<void> {
    await this.deps.stream.start((lsn, msg) => this.handle(lsn, msg));
    this.heartbeat?.start();
    this.lagTimer = setInterval(() => void this.probeLag(), 5_000);
    this.deps.logger.info({ slot: this.deps.config.slot, topic: this.deps.config.topic }, 'streaming');
  }

  async stop(): Promise<void> {
    if (this.lagTimer) clearInterval(this.lagTimer);
    await this.heartbeat?.stop();
    await this.publisher.close();
    // The last acknowledged commit reaches the slot before the stream reports its position and ends.
    await this.deps.settleConfirmations?.();
    await this.deps.stream.stop();
  }

  /** What /healthz answers: 503 (ok false, with the reason in detail) while the reader cannot do its job. */
  get health(): ReaderStatus {
    const verdict = readerVerdict({
      stream: this.deps.stream.stats().state,
      unacknowledged: this.publisher.unacknowledged,
      graceMs: this.deps.config.healthGraceMs,
      recordFailingSince: this.deps.recordFailingSince?.(),
      now: Date.now(),
    });
    return {
      ...verdict,
      ...(this.deps.continuity ? { continuity: this.deps.continuity } : {}),
      confirmedLsn: this.confirmed,
      pending: this.publisher.pending,
      lastEventAt: this.lastEventAt === undefined ? undefined : new Date(this.lastEventAt).toISOString(),
    };
  }

  /** Keepalives carry the sender's position; with nothing in flight it is safe to confirm. */
  onKeepalive(walEnd: Lsn): void {
    if (!this.commit && this.publisher.idle) this.confirm(walEnd);
  }

  private async handle(_lsn: Lsn, msg: PgoutputMessage): Promise<void> {
    switch (msg.tag) {
      case 'begin':
        this.commit = { finalLsn: msg.finalLsn, commitTime: msg.commitTime, index: 0 };
        this.deps.metrics.lastCommitTime.set(msg.commitTime.getTime() / 1000);
        return;
      case 'commit':
        this.publisher.commit(msg.endLsn);
        this.commit = undefined;
        this.deps.metrics.commits.inc();
        return;
      case 'insert':
      case 'update':
      case 'delete':
      case 'truncate':
        return this.emit(this.mapper.map(msg, this.requireCommit(msg.tag)));
      case 'message':
        if (msg.transactional) return this.emit(this.mapper.map(msg, this.requireCommit(msg.tag)));
        // A non-transactional message is its own unit: emitted and confirmed alone.
        await this.emit(this.mapper.map(msg, { finalLsn: msg.lsn, index: 0 }));
        this.publisher.commit(msg.lsn);
        return;
      default:
        return; // relation, type and origin messages only feed the decoder's caches
    }
  }

  private requireCommit(tag: string): CommitContext {
    if (!this.commit) throw new Error(`pgoutput ${tag} outside a transaction: the stream is out of sync`);
    return this.commit;
  }

  private async emit(outputs: Output[]): Promise<void> {
    const { config, metrics } = this.deps;
    // Within the byte limits first: an event split into parts, a dead letter cut to a reference.
    for (const out of outputs.flatMap((o) => this.limits.bound(o))) {
      switch (out.kind) {
        case 'event':
          metrics.events.inc({ operation: Operation[out.event.operation] ?? 'UNKNOWN' });
          this.lastEventAt = Date.now();
          await this.publisher.enqueue({
            topic: config.topic,
            key: out.key,
            value: encodeInvalidationEvent(out.event),
          });
          break;
        case 'heartbeat': {
          metrics.events.inc({ operation: 'HEARTBEAT' });
          const value = encodeInvalidationEvent(out.event);
          for (let partition = 0; partition < this.deps.partitions; partition++) {
            await this.publisher.enqueue({ topic: config.topic, key: 'heartbeat', partition, value });
          }
          break;
        }
        case 'dead-letter':
          metrics.deadLetters.inc();
          this.deps.logger.warn(
            { reason: out.deadLetter.reason, table: out.deadLetter.table, lsn: out.deadLetter.sourceLsn },
            'change sent to the dead-letter topic',
          );
          await this.publisher.enqueue({
            topic: config.deadLetterTopic,
            key: out.key,
            value: toBinary(DeadLetterSchema, out.deadLetter),
          });
          break;
        case 'relay':
          await this.relayOrDeadLetter(out.payload, out.sourceLsn);
          break;
      }
    }
    metrics.pending.set(this.publisher.pending);
    metrics.pendingBytes.set(this.publisher.pendingByteCount);
  }

  /**
   * A relay that fails for the connection stops the reader before it confirms, so the
   * message replays; one the database refuses for its data (SQLSTATE class 22) would be
   * refused on every replay, so it becomes a dead letter and the region goes on.
   */
  private async relayOrDeadLetter(payload: string, sourceLsn: string): Promise<void> {
    const { config, metrics, logger } = this.deps;
    try {
      await this.relay.relay(payload, sourceLsn);
    } catch (err) {
      metrics.errors.inc({ kind: 'relay' });
      const code = (err as { code?: unknown }).code;
      const reason = `relaying logical message ${sourceLsn} to the outbox failed: ${(err as Error).message}`;
      if (typeof code !== 'string' || !code.startsWith('22')) throw new Error(reason);
      metrics.deadLetters.inc();
      logger.warn({ lsn: sourceLsn, code }, 'relay refused by the database; sent to the dead-letter topic');
      const deadLetter = create(DeadLetterSchema, {
        region: config.region,
        component: 'cdc-reader',
        reason,
        attempts: 1,
        failedTime: timestampFromDate(new Date()),
        change: JSON.stringify({ kind: 'relay', lsn: sourceLsn, payload }),
        table: OUTBOX_TABLE,
        sourceLsn,
      });
      for (const out of this.limits.bound({ kind: 'dead-letter', key: `relay:${sourceLsn}`, deadLetter })) {
        if (out.kind !== 'dead-letter') continue;
        await this.publisher.enqueue({
          topic: config.deadLetterTopic,
          key: out.key,
          value: toBinary(DeadLetterSchema, out.deadLetter),
        });
      }
    }
  }

  private confirm(lsn: Lsn): void {
    if (this.confirmed && compareLsn(lsn, this.confirmed) <= 0) return;
    this.confirmed = lsn;
    (this.deps.confirm ?? ((l: Lsn) => this.deps.stream.confirm(l)))(lsn);
    this.deps.metrics.confirmedLsn.set(Number(lsnToBigInt(lsn)));
  }

  private async probeLag(): Promise<void> {
    try {
      const { rows } = await this.deps.pool.query(
        // A standby has no WAL head of its own; what it has replayed is what its slot can reach.
        `select ((case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)
                 - confirmed_flush_lsn)::float8 as lag
           from pg_replication_slots where slot_name = $1`,
        [this.deps.config.slot],
      );
      if (rows[0]) this.deps.metrics.lagBytes.set(Number(rows[0].lag));
    } catch (err) {
      this.deps.metrics.errors.inc({ kind: 'lag-probe' });
      this.deps.logger.debug({ err }, 'lag probe failed');
    }
  }
}
