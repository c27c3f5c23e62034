import type { RegionKafka } from './region-kafka.js';
import type { TopicScanner } from './topic-scan.js';

export function ledgerKey(partition: number, offset: bigint): string {
  return `${partition}:${offset}`;
}

/** How a dead letter left the pending set: a replay published it, or an operator resolved it. */
export interface Settlement {
  state: 'replayed' | 'resolved';
  /** The token name of whoever did it. */
  by: string;
  at: Date | undefined;
  /** Why it was resolved; empty for replays. */
  note: string;
}

export interface DeadLetterOffsets {
  partition: number;
  /** Log start: older dead letters were removed by retention. */
  start: bigint;
  /** High watermark. */
  end: bigint;
}

/**
 * Which dead letters of one region were replayed or resolved. Kept in Kafka beside the
 * DLQ (a compacted topic keyed by DLQ position, so the latest record of a dead letter
 * says how it was settled), so it survives control-plane restarts and every instance
 * sees it; held in memory and caught up incrementally, so lag reports do not re-read it.
 */
export class ReplayLedger {
  /** Settled DLQ offsets per DLQ partition. */
  private readonly settled = new Map<number, Map<bigint, Settlement>>();
  /** Next ledger offset to read, per ledger partition. */
  private readonly position = new Map<number, bigint>();
  private catchingUp: Promise<void> | undefined;
  private topicReady = false;

  constructor(
    private readonly kafka: RegionKafka,
    private readonly scanner: Pick<TopicScanner, 'scan'>,
    readonly topic: string,
  ) {}

  /** How the dead letter was settled; undefined while it is pending. */
  settlement(partition: number, offset: bigint): Settlement | undefined {
    return this.settled.get(partition)?.get(offset);
  }

  /** Dead letters still in the DLQ that were neither replayed nor resolved: the DLQ depth. */
  pending(dlq: DeadLetterOffsets[]): bigint {
    let pending = 0n;
    for (const p of dlq) {
      pending += p.end - p.start;
      // Settlements of dead letters that retention has since removed no longer count.
      for (const o of this.settled.get(p.partition)?.keys() ?? []) if (o >= p.start && o < p.end) pending--;
    }
    return pending;
  }

  /** Reads what other replays (or earlier runs) recorded since the last call. */
  refresh(): Promise<void> {
    this.catchingUp ??= this.catchUp().finally(() => (this.catchingUp = undefined));
    return this.catchingUp;
  }

  /** Records replayed dead letters; call only after their originals were acknowledged. */
  record(entries: Array<{ partition: number; offset: bigint; eventId: string }>, by: string): Promise<void> {
    return this.settle(entries, { state: 'replayed', by, note: '' }, (e, at) => ({
      replayedAt: at,
      eventId: e.eventId,
      by,
    }));
  }

  /** Records dead letters an operator closed without a replay, with who and why. */
  resolve(entries: Array<{ partition: number; offset: bigint }>, by: string, note: string): Promise<void> {
    return this.settle(entries, { state: 'resolved', by, note }, (_, at) => ({ resolvedAt: at, by, note }));
  }

  /** One ledger record per entry, published before the ledger in memory believes it. */
  private async settle<E extends { partition: number; offset: bigint }>(
    entries: E[],
    settlement: Omit<Settlement, 'at'>,
    record: (entry: E, at: string) => object,
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.ensureTopic();
    const at = new Date();
    await this.kafka.publish(
      this.topic,
      entries.map((e) => ({
        key: ledgerKey(e.partition, e.offset),
        value: JSON.stringify(record(e, at.toISOString())),
      })),
    );
    for (const e of entries) this.add(e.partition, e.offset, { ...settlement, at });
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
      const next = await this.scanner.scan({ topic: this.topic, partition, from, to }, (records) => {
        for (const r of records) {
          // The key says which dead letter; the value how, who and when.
          const [dlqPartition, dlqOffset] = r.key?.toString().split(':') ?? [];
          if (dlqPartition && dlqOffset && /^\d+$/.test(dlqPartition) && /^\d+$/.test(dlqOffset))
            this.add(Number(dlqPartition), BigInt(dlqOffset), parseSettlement(r.value));
        }
      });
      this.position.set(partition, next);
    }
  }

  private add(partition: number, offset: bigint, settlement: Settlement): void {
    const byOffset = this.settled.get(partition) ?? new Map<bigint, Settlement>();
    byOffset.set(offset, settlement);
    this.settled.set(partition, byOffset);
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

/**
 * A ledger value as written by record() or resolve(). Records from before resolutions
 * existed, or that do not parse, count as replays: the key alone always meant "replayed".
 */
export function parseSettlement(value: Buffer | null): Settlement {
  let v: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(value?.toString('utf8') ?? '');
    if (parsed && typeof parsed === 'object') v = parsed as Record<string, unknown>;
  } catch {
    // falls back to a replay by nobody known
  }
  const text = (x: unknown) => (typeof x === 'string' ? x : '');
  const date = (x: unknown) => {
    const d = typeof x === 'string' ? new Date(x) : undefined;
    return d && !Number.isNaN(d.getTime()) ? d : undefined;
  };
  if (typeof v.resolvedAt === 'string')
    return { state: 'resolved', by: text(v.by), at: date(v.resolvedAt), note: text(v.note) };
  return { state: 'replayed', by: text(v.by), at: date(v.replayedAt), note: '' };
}
