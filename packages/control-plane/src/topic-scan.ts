import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';

export interface ScannedRecord {
  partition: number;
  offset: bigint;
  /** The Kafka record time. */
  time: Date;
  key: Buffer | null;
  value: Buffer | null;
}

export interface PartitionRange {
  topic: string;
  partition: number;
  /** Inclusive. */
  from: bigint;
  /** Exclusive: the high watermark when the scan was planned, so a scan always ends. */
  to: bigint;
}

export class ScanStalledError extends Error {
  override readonly name = 'ScanStalledError';
}

type OnRecords = (
  records: ScannedRecord[],
  // biome-ignore lint/suspicious/noConfusingVoidType: a callback that returns nothing means "go on"
) => Promise<boolean | void> | boolean | void;

export interface ScanOptions {
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The reader of one region's DLQ and ledger topics. kafkajs cannot read without a
 * consumer group, and a group per read would leave one group behind per call (the broker
 * lists an empty group until its retention passes). So reads borrow a group from a small
 * pool, made once per control-plane instance and reused: one read per group at a time (a
 * second member would take partitions from the first), at most `maxGroups` groups, so
 * concurrent reads still run side by side. The groups commit nothing, so there is nothing
 * to reset, and close() deletes them.
 */
export class TopicScanner {
  private readonly prefix: string;
  private readonly made: string[] = [];
  private readonly free: string[] = [];
  private readonly waiting: Array<() => void> = [];
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    region: string,
    private readonly maxGroups: number,
    instance: string = randomUUID().slice(0, 8),
  ) {
    this.prefix = `${SCAN_GROUP_PREFIX}${region}-${instance}-`;
  }

  /** The groups made so far. */
  get groups(): readonly string[] {
    return this.made;
  }

  /** Like scanPartition, in a pooled group; an abort while waiting for one ends the wait. */
  async scan(range: PartitionRange, onRecords: OnRecords, opts: ScanOptions = {}): Promise<bigint> {
    if (this.closed) throw new Error(`${range.topic}: the scanner of this region is closed`);
    const groupId = await this.borrow(opts.signal);
    const run = scanPartition(this.kafka, range, onRecords, opts, groupId);
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
      this.free.push(groupId);
      this.waiting.shift()?.();
    }
  }

  /**
   * Waits for running reads, then deletes the groups, so a stopped control plane leaves
   * none behind. A group never joined is not there to delete: that failure is expected.
   */
  async close(admin: (work: (a: Admin) => Promise<unknown>) => Promise<unknown>): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.running]);
    if (this.made.length > 0) await admin((a) => a.deleteGroups([...this.made])).catch(() => undefined);
  }

  private async borrow(signal: AbortSignal | undefined): Promise<string> {
    for (;;) {
      signal?.throwIfAborted();
      const free = this.free.pop();
      if (free) return free;
      if (this.made.length < this.maxGroups) {
        const made = `${this.prefix}${this.made.length}`;
        this.made.push(made);
        return made;
      }
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        // An abandoned wait gives up its place, so the next free group wakes someone waiting.
        const onAbort = () => {
          this.waiting.splice(this.waiting.indexOf(wake), 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(wake);
      });
    }
  }
}

/** Every scan group starts with this, so operators can tell them from the invalidators'. */
export const SCAN_GROUP_PREFIX = 'fabric-control-plane-scan-';

/**
 * Reads one partition range in offset order and hands each fetched batch to `onRecords`,
 * which returns false to stop early. Resolves with the offset after the last record
 * handed over. Joins `groupId` (a TopicScanner's) for the read and leaves it after; the
 * group commits nothing. Without one, a throwaway group is made for this read alone.
 */
export async function scanPartition(
  kafka: Kafka,
  range: PartitionRange,
  onRecords: OnRecords,
  opts: ScanOptions = {},
  groupId = `${SCAN_GROUP_PREFIX}${randomUUID()}`,
): Promise<bigint> {
  if (range.from >= range.to) return range.from;
  const idleMs = opts.idleTimeoutMs ?? 15_000;
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
  });
  let next = range.from;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [range.topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let finished = false;
      const finish = (err?: unknown) => {
        if (finished) return;
        finished = true;
        if (err) reject(err);
        else resolve();
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            finish(
              new ScanStalledError(
                `${range.topic}[${range.partition}]: no records for ${idleMs} ms at offset ${next} (expected up to ${range.to})`,
              ),
            ),
          idleMs,
        );
      };
      onAbort = () => finish(opts.signal!.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) return finish(opts.signal.reason);
      arm();
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            if (finished || batch.partition !== range.partition) return;
            // Nothing is committed, but the next fetch starts after the last resolved
            // offset: unresolved, every fetch would return the same first megabyte.
            const last = batch.messages[batch.messages.length - 1];
            // A batch may start before `from` (before the seek took effect) or run past `to`.
            const records = batch.messages
              .map((m) => ({
                partition: batch.partition,
                offset: BigInt(m.offset),
                time: new Date(Number(m.timestamp)),
                key: m.key,
                value: m.value,
              }))
              .filter((r) => r.offset >= next && r.offset < range.to);
            if (records.length === 0) {
              if (last) resolveOffset(last.offset);
              return;
            }
            // The idle clock measures the broker, not how long the caller takes to publish.
            clearTimeout(timer);
            try {
              const more = await onRecords(records);
              next = records[records.length - 1]!.offset + 1n;
              if (last) resolveOffset(last.offset);
              if (more === false || next >= range.to) finish();
              else arm();
            } catch (err) {
              finish(err);
            }
          },
        })
        .catch(finish);
      consumer.seek({ topic: range.topic, partition: range.partition, offset: String(range.from) });
    });
    return next;
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
  }
}
