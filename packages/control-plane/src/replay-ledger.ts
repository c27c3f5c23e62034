import type { RegionKafka } from './region-kafka.js';
import { scanPartition } from './topic-scan.js';

export function ledgerKey(partition: number, offset: bigint): string {
  return `${partition}:${offset}`;
}

export interface DeadLetterOffsets {
  partition: number;
  /** Log start: older dead letters were removed by retention. */
  start: bigint;
  /** High watermark. */
  end: bigint;
}

/**
 * Which dead letters of one region were replayed. Kept in Kafka beside the DLQ (a
 * compacted topic), so it survives control-plane restarts and every instance sees it;
 * held in memory and caught up incrementally, so lag reports do not re-read it.
 */
export class ReplayLedger {
  /** Replayed DLQ offsets per DLQ partition. */
  private readonly replayed = new Map<number, Set<bigint>>();
  /** Next ledger offset to read, per ledger partition. */
  private readonly position = new Map<number, bigint>();
  private catchingUp: Promise<void> | undefined;
  private topicReady = false;

  constructor(
    private readonly kafka: RegionKafka,
    readonly topic: string,
  ) {}

  has(partition: number, offset: bigint): boolean {
    return this.replayed.get(partition)?.has(offset) ?? false;
  }

  /** Dead letters still in the DLQ that no replay published. */
  pending(dlq: DeadLetterOffsets[]): bigint {
    let pending = 0n;
    for (const p of dlq) {
      pending += p.end - p.start;
      // Replays of dead letters that retention has since removed no longer count.
      for (const o of this.replayed.get(p.partition) ?? []) if (o >= p.start && o < p.end) pending--;
    }
    return pending;
  }

  /** Reads what other replays (or earlier runs) recorded since the last call. */
  refresh(): Promise<void> {
    this.catchingUp ??= this.catchUp().finally(() => (this.catchingUp = undefined));
    return this.catchingUp;
  }

  /** Records replayed dead letters; call only after their originals were acknowledged. */
  async record(entries: Array<{ partition: number; offset: bigint; eventId: string }>, by: string): Promise<void> {
    if (entries.length === 0) return;
    await this.ensureTopic();
    const replayedAt = new Date().toISOString();
    await this.kafka.publish(
      this.topic,
      entries.map((e) => ({
        key: ledgerKey(e.partition, e.offset),
        value: JSON.stringify({ replayedAt, eventId: e.eventId, by }),
      })),
    );
    for (const e of entries) this.add(e.partition, e.offset);
  }

  private async catchUp(): Promise<void> {
    // Asked by listing, not by fetching its offsets: a fetch would make kafkajs track a
    // topic that may not exist. No ledger topic yet: nothing was ever replayed.
    this.topicReady ||= (await this.kafka.admin('list topics', (a) => a.listTopics())).includes(this.topic);
    if (!this.topicReady) return;
    const offsets = await this.kafka.admin('ledger offsets', (a) => a.fetchTopicOffsets(this.topic));
    for (const { partition, high } of offsets) {
      const from = this.position.get(partition) ?? 0n;
      const to = BigInt(high);
      if (from >= to) continue;
      const next = await scanPartition(this.kafka.kafka, { topic: this.topic, partition, from, to }, (records) => {
        for (const r of records) {
          // Only the key counts; the value says who replayed it and when, for people.
          const [dlqPartition, dlqOffset] = r.key?.toString().split(':') ?? [];
          if (dlqPartition && dlqOffset && /^\d+$/.test(dlqPartition) && /^\d+$/.test(dlqOffset))
            this.add(Number(dlqPartition), BigInt(dlqOffset));
        }
      });
      this.position.set(partition, next);
    }
  }

  private add(partition: number, offset: bigint): void {
    const set = this.replayed.get(partition) ?? new Set<bigint>();
    set.add(offset);
    this.replayed.set(partition, set);
  }

  private async ensureTopic(): Promise<void> {
    if (this.topicReady) return;
    await this.kafka.admin('create ledger topic', (a) =>
      a.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: this.topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        ],
      }),
    );
    this.topicReady = true;
  }
}
