import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { BatchProcessor, ProcessControl, SourceRecord } from './batch-processor.js';
import { fetchLingerMs } from './fetch-linger.js';
import type { FreshnessTracker } from './freshness.js';
import type { ConsumerState } from './health.js';
import { describeGap, OffsetContinuity, type OffsetGap } from './offset-continuity.js';

export interface RegionConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Records per processing chunk. */
  maxBatch: number;
  /**
   * Applied offsets are committed at most this often (ms); 0 commits after every chunk.
   * A crash redelivers at most this much, and redelivery is harmless (events are idempotent),
   * while a commit per chunk is a broker round trip and a log append per partition per fetch.
   */
  commitIntervalMs: number;
  /** After a batch smaller than maxBatch, the next fetch waits this long from its arrival (see fetch-linger.ts). */
  fetchLingerMs?: number;
  /** Waits `ms`; a test passes its own. */
  sleep?: (ms: number) => Promise<void>;
  processor: BatchProcessor;
  freshness: FreshnessTracker;
  logger: Logger;
  onBatch?: (size: number) => void;
  /** Told each time the member starts, joins its group, restarts after an error, fails or stops. */
  onState?: (state: ConsumerState) => void;
  /**
   * Records were skipped or the offsets started over: repair (resync) before the batch is
   * applied; false when the consumer stopped first. Without it a gap is only logged.
   */
  onGap?: (gap: OffsetGap, detail: string, control: ProcessControl) => Promise<boolean>;
  /** Positions kept outside the group (in Redis): at start they stand in for offsets the group lost. */
  recordedOffsets?: () => Promise<Map<number, bigint>>;
  /**
   * Newest applied commit times the group recorded per partition: a partition assigned here
   * counts from its previous owner's record (else from its assignment) until it applies.
   */
  recordedCommitTimes?: () => Promise<Map<number, number>>;
  /** Told of every successful commit, to keep those positions. */
  onCommitted?: (offsets: Array<[partition: number, offset: string]>) => void;
}

/**
 * The region's consumer group member. Partitions are processed concurrently, each in
 * order; a chunk's offset is resolved, and becomes due for commit, only once the processor
 * says every record in it is applied or dead-lettered. Due offsets are committed on a timer
 * (or at once with commitIntervalMs 0); nothing is auto-committed.
 */
export class RegionConsumer {
  private consumer: Consumer | undefined;
  /** Partitions this member holds since the last rebalance; empty until it joined. */
  assigned: number[] = [];
  private crashed!: (err: Error) => void;
  /** Settles when kafkajs gave up on the consumer; the process should exit and be restarted. */
  readonly failure = new Promise<Error>((resolve) => (this.crashed = resolve));
  /** Next offset to commit per partition: everything before it is applied or dead-lettered. */
  private readonly due = new Map<number, string>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private stopping = false;
  /** Set while commits fail, so a broker outage is logged once rather than every interval. */
  private commitFailing = false;
  private admin: Admin | undefined;
  private readonly continuity = new OffsetContinuity();
  /** Settles once the positions of the partitions assigned by the latest join are known. */
  private seeded: Promise<void> = Promise.resolve();

  constructor(private readonly opts: RegionConsumerOptions) {}

  async start(partitions: number): Promise<void> {
    const { kafka, topic, groupId, logger, freshness } = this.opts;
    this.opts.onState?.('starting');
    const consumer = kafka.consumer({
      groupId,
      // A member that died without leaving blocks its partitions until its session expires:
      // short, so a crashed invalidator's successor takes over within seconds. Retries
      // heartbeat every second, so long backoffs do not expire it.
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 30_000,
      // An idle fetch returns after this long; a fetch with data returns at once.
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[topic] ?? [];
      this.assigned = [...assigned].sort((a, b) => a - b);
      freshness.retain(assigned);
      // Offsets of partitions now owned by someone else are theirs to commit (they redeliver from ours).
      for (const partition of this.due.keys()) if (!assigned.includes(partition)) this.due.delete(partition);
      logger.info({ partitions: assigned, generation: payload.groupId }, 'partitions assigned');
      this.seeded = this.seed(assigned);
      if (!this.stopping) this.opts.onState?.('joined');
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) {
        logger.warn({ err: payload.error }, 'consumer restarting after an error');
        this.opts.onState?.('restarting');
      } else {
        this.opts.onState?.('failed');
        this.crashed(payload.error);
      }
    });
    this.admin = kafka.admin();
    await this.admin.connect();
    await this.repairGapsAtStart();
    await consumer.connect();
    if (this.opts.commitIntervalMs > 0) {
      this.commitTimer = setInterval(() => void this.commitDue(), this.opts.commitIntervalMs);
      this.commitTimer.unref();
    }
    // A new group starts at the beginning: events published before the first start are not skipped.
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, partitions),
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
    commitOffsetsIfNecessary,
  }: EachBatchPayload): Promise<void> {
    const arrived = performance.now();
    const control = { heartbeat, isRunning: () => isRunning() && !isStale() };
    await this.seeded;
    const first = batch.messages[0];
    if (!first) return;
    const gap = this.continuity.check(batch.partition, BigInt(first.offset));
    if (gap) {
      const detail = describeGap(batch.topic, gap);
      this.opts.logger.error(
        { partition: gap.partition, expected: String(gap.expected), received: first.offset },
        detail,
      );
      if (this.opts.onGap && !(await this.opts.onGap(gap, detail, control))) return;
      this.continuity.advance(batch.partition, BigInt(first.offset) - 1n);
    }
    for (let i = 0; i < batch.messages.length; i += this.opts.maxBatch) {
      if (!control.isRunning()) return;
      const chunk = batch.messages.slice(i, i + this.opts.maxBatch);
      const records: SourceRecord[] = chunk.map((m) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
      }));
      this.opts.onBatch?.(records.length);
      const outcome = await this.opts.processor.process(records, control);
      // Unresolved, the chunk is fetched again by whoever owns the partition next.
      if (outcome.status === 'interrupted') return;
      const last = chunk[chunk.length - 1]!.offset;
      resolveOffset(last);
      this.continuity.advance(batch.partition, BigInt(last));
      const next = (BigInt(last) + 1n).toString();
      if (this.opts.commitIntervalMs === 0 || this.stopping) {
        await commitOffsetsIfNecessary({
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
        });
        this.opts.onCommitted?.([[batch.partition, next]]);
      } else {
        this.due.set(batch.partition, next);
      }
      await heartbeat();
    }
    const linger = fetchLingerMs(
      batch.messages.length,
      this.opts.maxBatch,
      performance.now() - arrived,
      this.stopping ? 0 : (this.opts.fetchLingerMs ?? 0),
    );
    if (linger > 0) await (this.opts.sleep ?? defaultSleep)(linger);
  }

  /**
   * Commits what is due, then leaves the group; a chunk finishing meanwhile commits itself.
   * A chunk being retried stops at its next slice and stays uncommitted.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.opts.onState?.('stopped');
    if (this.commitTimer) clearInterval(this.commitTimer);
    await this.commitDue();
    await this.consumer?.disconnect();
    await this.admin?.disconnect().catch(() => undefined);
  }

  private commitDue(): Promise<void> {
    this.committing ??= this.commitOnce().finally(() => (this.committing = undefined));
    return this.committing;
  }

  private async commitOnce(): Promise<void> {
    if (!this.consumer || this.due.size === 0) return;
    const offsets = [...this.due];
    this.due.clear();
    try {
      await this.consumer.commitOffsets(
        offsets.map(([partition, offset]) => ({ topic: this.opts.topic, partition, offset })),
      );
      this.opts.onCommitted?.(offsets);
      if (this.commitFailing) this.opts.logger.info('offset commits succeed again');
      this.commitFailing = false;
    } catch (err) {
      // Put back what no newer chunk replaced; after a rebalance the new owner redelivers instead.
      for (const [partition, offset] of offsets)
        if (!this.due.has(partition) && this.assigned.includes(partition)) this.due.set(partition, offset);
      const detail = { err: err instanceof Error ? err.message : String(err), partitions: offsets.map(([p]) => p) };
      if (this.commitFailing) this.opts.logger.debug(detail, 'offset commit failed again');
      else
        this.opts.logger.warn(
          detail,
          'offset commit failed; retrying every interval (a restart meanwhile redelivers, harmlessly)',
        );
      this.commitFailing = true;
    }
  }

  /**
   * Where each assigned partition must continue, for the batch check: the group's committed
   * offset. A partition without one starts from the earliest record, which re-applies
   * (harmlessly) rather than skips; the check at start covers a log that begins too late.
   */
  private async seed(assigned: readonly number[]): Promise<void> {
    const positions = new Map<number, bigint>();
    try {
      for (const [partition, next] of await this.committed())
        if (assigned.includes(partition)) positions.set(partition, next);
    } catch (err) {
      // Not knowing the positions only means this join's first batches go unchecked.
      this.opts.logger.warn({ err }, 'could not read committed offsets; gaps at this join go undetected');
    }
    this.continuity.seed(positions);
    let recorded = new Map<number, number>();
    try {
      recorded = (await this.opts.recordedCommitTimes?.()) ?? recorded;
    } catch (err) {
      this.opts.logger.warn(
        { err },
        'could not read recorded commit times; new partitions count from their assignment',
      );
    }
    // Before any batch of this join runs (batches wait for the seeding).
    this.opts.freshness.seed(assigned, recorded);
  }

  private async committed(): Promise<Map<number, bigint>> {
    const [committed] = await this.admin!.fetchOffsets({ groupId: this.opts.groupId, topics: [this.opts.topic] });
    return new Map(
      (committed?.partitions ?? [])
        .filter(({ offset }) => BigInt(offset) >= 0n)
        .map(({ partition, offset }) => [partition, BigInt(offset)]),
    );
  }

  /**
   * Before joining: a position (committed, or recorded in Redis when the group lost its
   * offsets) below the partition's log start means records expired unread; one above its
   * end means the topic was created again. Either is repaired before anything is consumed,
   * then the group is moved to the log start explicitly, where Kafka's reset would have
   * put it silently.
   */
  private async repairGapsAtStart(): Promise<void> {
    const { onGap, logger, topic, groupId } = this.opts;
    if (!onGap) return;
    const recorded = (await this.opts.recordedOffsets?.().catch(() => undefined)) ?? new Map<number, bigint>();
    const committed = await this.committed();
    const gaps: OffsetGap[] = [];
    const seededAt = Date.now();
    for (const { partition, low, high } of await this.admin!.fetchTopicOffsets(topic)) {
      const position = committed.get(partition) ?? recorded.get(partition);
      if (position === undefined) continue;
      if (position < BigInt(low))
        gaps.push({ partition, expected: position, received: BigInt(low), kind: 'offset-out-of-range', seededAt });
      else if (position > BigInt(high))
        gaps.push({ partition, expected: position, received: BigInt(low), kind: 'topic-recreated', seededAt });
    }
    if (gaps.length === 0) return;
    const detail = gaps.map((g) => describeGap(topic, g)).join('; ');
    logger.error({ partitions: gaps.map((g) => g.partition) }, detail);
    const repaired = await onGap(gaps[0]!, detail, {
      heartbeat: async () => undefined,
      isRunning: () => !this.stopping,
    });
    if (!repaired) return;
    const moved = gaps.map((g) => ({ partition: g.partition, offset: String(g.received) }));
    try {
      await this.admin!.setOffsets({ groupId, topic, partitions: moved });
      this.opts.onCommitted?.(moved.map((m) => [m.partition, m.offset]));
    } catch (err) {
      // Another member is active: the batch check then sees the same gap, and repeats the (idempotent) resync.
      logger.warn({ err }, 'could not move the group to the log start after the resync');
    }
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
