import { create, DeadLetterSchema, timestampFromDate, toBinary } from '@fabric/proto';
import type { Producer } from 'kafkajs';
import type { DeadLetterDraft } from './batch-processor.js';

export const COMPONENT = 'invalidator';

/** The DLQ record for a draft: the original bytes untouched, so a replay sends exactly them. */
export function toDeadLetter(region: string, draft: DeadLetterDraft, failedAt: Date): Uint8Array {
  return toBinary(
    DeadLetterSchema,
    create(DeadLetterSchema, {
      region,
      component: COMPONENT,
      reason: draft.reason,
      attempts: draft.attempts,
      original: draft.record.value ?? new Uint8Array(),
      sourceTopic: draft.record.topic,
      sourcePartition: draft.record.partition,
      sourceOffset: BigInt(draft.record.offset),
      failedTime: timestampFromDate(failedAt),
      table: draft.event?.table ?? '',
      sourceLsn: draft.event?.sourceLsn ?? '',
    }),
  );
}

/** Sends dead letters with acks from every in-sync replica before the source offsets move. */
export function deadLetterPublisher(
  producer: Producer,
  region: string,
  topic: string,
  now: () => Date = () => new Date(),
) {
  return async (drafts: DeadLetterDraft[]): Promise<void> => {
    const failedAt = now();
    await producer.send({
      topic,
      acks: -1,
      messages: drafts.map((d) => ({
        key: d.record.key,
        value: Buffer.from(toDeadLetter(region, d, failedAt)),
        headers: {
          'fabric-reason': d.reason.slice(0, 200),
          'fabric-source': `${d.record.topic}/${d.record.partition}/${d.record.offset}`,
        },
      })),
    });
  };
}
