import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Everything the reader exports on /metrics; every series carries the region. */
export class ReaderMetrics {
  readonly registry = new Registry();
  readonly resyncs: Counter<'reason'>;
  readonly events: Counter<'operation'>;
  readonly deadLetters: Counter;
  readonly skipped: Counter<'table' | 'reason'>;
  readonly identityGaps: Gauge<'table'>;
  readonly commits: Counter;
  readonly batches: Histogram;
  readonly batchSeconds: Histogram;
  readonly errors: Counter<'kind'>;
  readonly lagBytes: Gauge;
  readonly confirmedLsn: Gauge;
  readonly lastCommitTime: Gauge;
  readonly pending: Gauge;
  readonly pendingBytes: Gauge;
  readonly eventParts: Counter;
  readonly deadLettersTruncated: Counter;
  readonly refused: Counter<'topic'>;
  readonly producerRecreated: Counter<'type'>;

  constructor(region: string) {
    this.registry.setDefaultLabels({ region, component: 'cdc-reader' });
    collectDefaultMetrics({ register: this.registry, prefix: 'fabric_cdc_process_' });
    const registers = [this.registry];
    this.events = new Counter({
      name: 'fabric_cdc_events_total',
      help: 'Invalidation events published, by operation',
      labelNames: ['operation'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'fabric_cdc_dead_letters_total',
      help: 'Changes (or the templates of a change) no rule could render, sent to the DLQ topic',
      registers,
    });
    this.skipped = new Counter({
      name: 'fabric_cdc_changes_skipped_total',
      help: 'Row changes that rendered nothing, by table and reason (no-rule: no key rule names the table; unwatched-columns: an UPDATE of none of when_columns)',
      labelNames: ['table', 'reason'],
      registers,
    });
    this.identityGaps = new Gauge({
      name: 'fabric_cdc_rule_replica_identity_gaps',
      help: "Templates of a table's key rules that read old-row values its replica identity does not log (found at start; 0 = none)",
      labelNames: ['table'],
      registers,
    });
    this.commits = new Counter({ name: 'fabric_cdc_commits_total', help: 'Source transactions decoded', registers });
    this.batches = new Histogram({
      name: 'fabric_cdc_batch_size',
      help: 'Messages per Kafka batch',
      buckets: [1, 5, 20, 100, 500, 2000],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'fabric_cdc_batch_seconds',
      help: 'Kafka batch send time until acks=all',
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2],
      registers,
    });
    this.errors = new Counter({
      name: 'fabric_cdc_errors_total',
      help: 'Errors by kind (kafka, heartbeat, relay, lag-probe)',
      labelNames: ['kind'],
      registers,
    });
    this.lagBytes = new Gauge({
      name: 'fabric_cdc_lag_bytes',
      help: 'WAL head minus the slot confirmed LSN',
      registers,
    });
    this.confirmedLsn = new Gauge({
      name: 'fabric_cdc_confirmed_lsn',
      help: 'Slot position confirmed after Kafka acks, as a number',
      registers,
    });
    this.lastCommitTime = new Gauge({
      name: 'fabric_cdc_last_commit_timestamp_seconds',
      help: 'Primary commit time of the newest decoded transaction',
      registers,
    });
    this.resyncs = new Counter({
      name: 'fabric_cdc_resyncs_total',
      help: 'Gaps in continuity found at start (slot lost or recreated, database rebuilt, timeline not followed), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.pending = new Gauge({
      name: 'fabric_cdc_pending_messages',
      help: 'Messages decoded but not yet acknowledged by Kafka',
      registers,
    });
    this.pendingBytes = new Gauge({
      name: 'fabric_cdc_pending_bytes',
      help: 'Bytes of the messages decoded but not yet acknowledged (bounded by --max-pending-bytes)',
      registers,
    });
    this.eventParts = new Counter({
      name: 'fabric_cdc_event_parts_total',
      help: 'Parts published for events above --max-event-bytes (one event split in three counts 3)',
      registers,
    });
    this.deadLettersTruncated = new Counter({
      name: 'fabric_cdc_dead_letters_truncated_total',
      help: 'Dead letters above --max-dead-letter-bytes sent as a reference without the row',
      registers,
    });
    this.refused = new Counter({
      name: 'fabric_cdc_kafka_refused_total',
      help: 'Records Kafka refused for what they are (too large, invalid), replaced by a dead letter, by topic (events, dead-letter)',
      labelNames: ['topic'],
      registers,
    });
    this.producerRecreated = new Counter({
      name: 'fabric_cdc_producer_recreated_total',
      help: 'Kafka producers recreated after the broker refused their sequence numbers, by error type',
      labelNames: ['type'],
      registers,
    });
  }
}
