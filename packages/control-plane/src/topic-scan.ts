import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';

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

/**
 * Reads one partition range in offset order and hands each fetched batch to `onRecords`,
 * which returns false to stop early. Resolves with the offset after the last record
 * handed over. kafkajs cannot read without a consumer group, so every scan joins a
 * throwaway group that commits nothing and leaves nothing behind to reset.
 */
export async function scanPartition(
  kafka: Kafka,
  range: PartitionRange,
  // biome-ignore lint/suspicious/noConfusingVoidType: a callback that returns nothing means "go on"
  onRecords: (records: ScannedRecord[]) => Promise<boolean | void> | boolean | void,
  opts: { idleTimeoutMs?: number; signal?: AbortSignal } = {},
): Promise<bigint> {
  if (range.from >= range.to) return range.from;
  const idleMs = opts.idleTimeoutMs ?? 15_000;
  const consumer = kafka.consumer({
    groupId: `fabric-control-plane-scan-${randomUUID()}`,
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
