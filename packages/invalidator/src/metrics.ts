import { type InvalidationEvent, Operation, timestampMs } from '@fabric/proto';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DeadLetterDraft, ProcessObserver } from './batch-processor.js';
import type { FreshnessTracker } from './freshness.js';
import { LatencyWindow } from './latency-window.js';
import type { ApplyResult } from './redis-applier.js';

const operationName = (op: Operation) => (Operation[op] ?? String(op)).toLowerCase();

/** Everything the invalidator exports on /metrics; every series carries the region. */
export class InvalidatorMetrics implements ProcessObserver {
  readonly registry = new Registry();
  readonly latency = new LatencyWindow();
  readonly totals = { applied: 0, deadLettered: 0, retries: 0 };
  private readonly events: Counter<'operation'>;
  private readonly deadLetters: Counter<'cause'>;
  private readonly retries: Counter;
  private readonly heartbeatsDropped: Counter;
  private readonly blockedPartitions: Gauge;
  private readonly blocks: Counter<'reason'>;
  private readonly blockedSeconds: Counter;
  private readonly commitToApplied: Histogram;
  private readonly emittedToApplied: Histogram;
  private readonly applySeconds: Histogram;
  private readonly batchSize: Histogram;
  private readonly redisOps: Counter<'op'>;
  readonly redisUp: Gauge;
  private readonly resyncs: Counter<'reason'>;
  private readonly resyncKeys: Counter<'reason'>;
  private readonly resyncSeconds: Histogram<'reason'>;
  /** Read by the resyncing gauge; set by main once the runner exists. */
  resyncing: () => boolean = () => false;

  constructor(
    region: string,
    private readonly freshness: FreshnessTracker,
    private readonly now: () => number = Date.now,
  ) {
    this.registry.setDefaultLabels({ region, component: 'invalidator' });
    collectDefaultMetrics({ register: this.registry, prefix: 'fabric_inval_process_' });
    const registers = [this.registry];
    this.events = new Counter({
      name: 'fabric_inval_events_applied_total',
      help: 'Events applied to Redis, by operation (redeliveries count again)',
      labelNames: ['operation'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'fabric_inval_dead_letters_total',
      help: 'Records sent to the DLQ topic, by cause (undecodable, invalid, permanent, exhausted)',
      labelNames: ['cause'],
      registers,
    });
    this.retries = new Counter({
      name: 'fabric_inval_retries_total',
      help: 'Event retries after a transient Redis failure',
      registers,
    });
    this.heartbeatsDropped = new Counter({
      name: 'fabric_inval_heartbeats_dropped_total',
      help: 'Heartbeat events given up on (Redis unreachable); they carry nothing to dead-letter',
      registers,
    });
    this.blockedPartitions = new Gauge({
      name: 'fabric_inval_blocked_partitions',
      help: 'Partitions stopped at a Redis outage or server state (connection, LOADING, MISCONF, NOAUTH...): retrying, nothing dead-lettered, offsets held',
      registers,
    });
    this.blocks = new Counter({
      name: 'fabric_inval_partition_blocks_total',
      help: 'Times a partition blocked at a Redis outage, by reason (connection or the reply code)',
      labelNames: ['reason'],
      registers,
    });
    this.blockedSeconds = new Counter({
      name: 'fabric_inval_partition_blocked_seconds_total',
      help: 'Time partitions spent blocked at a Redis outage, summed over partitions (counted when each block ends)',
      registers,
    });
    this.commitToApplied = new Histogram({
      name: 'fabric_inval_commit_to_applied_seconds',
      help: 'Primary commit to applied in this region, per event',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    // The reader stamps emitted_time when it decodes a change: this splits the latency into
    // the CDC part (commit -> emitted) and delivery plus apply (emitted -> applied).
    this.emittedToApplied = new Histogram({
      name: 'fabric_inval_emitted_to_applied_seconds',
      help: 'Reader decode to applied in this region (Kafka delivery plus Redis apply), per event',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
      registers,
    });
    this.applySeconds = new Histogram({
      name: 'fabric_inval_apply_seconds',
      help: 'One Redis apply round (pipelines for a chunk)',
      buckets: [0.0005, 0.001, 0.005, 0.02, 0.1, 0.5, 2],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'fabric_inval_apply_batch_size',
      help: 'Events per Redis apply round',
      buckets: [1, 5, 20, 100, 500, 2000],
      registers,
    });
    this.redisOps = new Counter({
      name: 'fabric_inval_redis_operations_total',
      help: 'Redis effects: keys, leases and stale copies unlinked, versions bumped, tags expanded, patterns scanned, SSCAN/SCAN pages walked',
      labelNames: ['op'],
      registers,
    });
    this.redisUp = new Gauge({
      name: 'fabric_inval_redis_up',
      help: '1 while the Redis connection is ready',
      registers,
    });
    this.resyncs = new Counter({
      name: 'fabric_inval_resyncs_total',
      help: 'Resyncs started (a gap in continuity found by the reader, the invalidator or an operator), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.resyncKeys = new Counter({
      name: 'fabric_inval_resync_keys_dropped_total',
      help: 'Cache values deleted by resync recovery actions, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.resyncSeconds = new Histogram({
      name: 'fabric_inval_resync_seconds',
      help: 'How long a resync took from its start to its recovery action finished, by reason',
      labelNames: ['reason'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
      registers,
    });
    const metrics = this;
    new Gauge({
      name: 'fabric_inval_resyncing',
      help: '1 while a resync runs: the region is not fresh until its recovery action finished',
      registers,
      collect() {
        this.set(metrics.resyncing() ? 1 : 0);
      },
    });
    const tracker = this.freshness;
    new Gauge({
      name: 'fabric_inval_freshness_seconds',
      help: 'Now minus the primary commit time of the newest event applied (slowest partition); absent before the first',
      registers,
      collect() {
        const s = tracker.freshnessSeconds();
        if (s === null) this.reset();
        else this.set(s);
      },
    });
    new Gauge({
      name: 'fabric_inval_last_applied_commit_timestamp_seconds',
      help: 'Primary commit time of the newest event applied (slowest partition)',
      registers,
      collect() {
        const ms = tracker.lastAppliedCommitMs();
        if (ms === null) this.reset();
        else this.set(ms / 1000);
      },
    });
  }

  applyResult(result: ApplyResult, seconds: number): void {
    this.applySeconds.observe(seconds);
    this.redisOps.inc({ op: 'keys_unlinked' }, result.keysUnlinked);
    this.redisOps.inc({ op: 'leases_revoked' }, result.leasesRevoked);
    this.redisOps.inc({ op: 'stale_dropped' }, result.staleDropped);
    this.redisOps.inc({ op: 'versions_bumped' }, result.versionsBumped);
    this.redisOps.inc({ op: 'tags_expanded' }, result.tagsExpanded);
    this.redisOps.inc({ op: 'patterns_scanned' }, result.patternsScanned);
    this.redisOps.inc({ op: 'pages_scanned' }, result.pagesScanned);
  }

  resyncStarted(reason: string): void {
    this.resyncs.inc({ reason });
  }

  resyncFinished(reason: string, keysDropped: number, seconds: number): void {
    this.resyncKeys.inc({ reason }, keysDropped);
    this.resyncSeconds.observe({ reason }, seconds);
  }

  applied(event: InvalidationEvent, partition: number): void {
    this.totals.applied++;
    this.events.inc({ operation: operationName(event.operation) });
    if (event.operation === Operation.RESYNC) {
      // Its "commit time" is when the gap was found: it moves freshness, not the latency figures.
      if (event.primaryCommitTime) this.freshness.observe(partition, timestampMs(event.primaryCommitTime));
      return;
    }
    if (event.emittedTime)
      this.emittedToApplied.observe(Math.max(0, this.now() - timestampMs(event.emittedTime)) / 1000);
    // A manual invalidation's time is the control plane's clock when it was asked for, not a
    // primary commit: counted, it would call the region fresh while its stream stood still.
    if (!event.primaryCommitTime || event.operation === Operation.MANUAL) return;
    const commitMs = timestampMs(event.primaryCommitTime);
    // A time from the future is wrong, for latency as for freshness.
    if (!this.freshness.observe(partition, commitMs)) return;
    const latencyMs = Math.max(0, this.now() - commitMs);
    this.commitToApplied.observe(latencyMs / 1000);
    this.latency.record(latencyMs);
  }

  retrying(events: number, _attempt: number, _delayMs: number, _error: unknown): void {
    this.totals.retries += events;
    this.retries.inc(events);
  }

  deadLettered(draft: DeadLetterDraft): void {
    this.totals.deadLettered++;
    this.deadLetters.inc({ cause: draft.cause });
  }

  heartbeatDropped(): void {
    this.heartbeatsDropped.inc();
  }

  blocked(_partition: number, reason: string): void {
    this.blockedPartitions.inc();
    this.blocks.inc({ reason });
  }

  unblocked(_partition: number, blockedMs: number): void {
    this.blockedPartitions.dec();
    this.blockedSeconds.inc(blockedMs / 1000);
  }

  batch(size: number): void {
    this.batchSize.observe(size);
  }
}
