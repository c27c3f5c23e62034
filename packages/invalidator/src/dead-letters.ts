import { type ByteLimits, chunkByBytes, DEFAULT_BYTE_LIMITS, recordBytes } from '@fabric/contracts';
import { create, DeadLetterSchema, timestampFromDate, toBinary } from '@fabric/proto';
import { kafkaFailure } from '@fabric/runtime';
import type { Producer } from 'kafkajs';
import type { DeadLetterDraft } from './batch-processor.js';

export const COMPONENT = 'invalidator';

/** The DLQ record for a draft: the original bytes untouched, so a replay sends exactly them. */
export function toDeadLetter(
  region: string,
  draft: DeadLetterDraft,
  failedAt: Date,
  original: Uint8Array = draft.record.value ?? new Uint8Array(),
): Uint8Array {
  return toBinary(
    DeadLetterSchema,
    create(DeadLetterSchema, {
      region,
      component: COMPONENT,
      reason: draft.reason,
      attempts: draft.attempts,
      original,
      sourceTopic: draft.record.topic,
      sourcePartition: draft.record.partition,
      sourceOffset: BigInt(draft.record.offset),
      failedTime: timestampFromDate(failedAt),
      table: draft.event?.table ?? '',
      sourceLsn: draft.event?.sourceLsn ?? '',
    }),
  );
}

interface LetterMessage {
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Already the reference form: refused in turn, there is nothing smaller to send. */
  reference: boolean;
  draft: DeadLetterDraft;
}

/**
 * Sends dead letters with acks from every in-sync replica before the source offsets move.
 *
 * Bounded by bytes: a dead letter above `deadLetterBytes` leaves its original out (the
 * source topic, partition and offset in it still name the record), and the letters go in
 * requests of at most `batchBytes`, so a batch of many large letters is never one record
 * batch above the broker's message.max.bytes. Should the broker refuse letters anyway (a
 * topic with a smaller limit), the request is halved down to the refused letter, which is
 * sent once more as a reference; a reference refused too is an error, and the batch stays
 * uncommitted.
 */
export function deadLetterPublisher(
  producer: Pick<Producer, 'send'>,
  region: string,
  topic: string,
  now: () => Date = () => new Date(),
  limits: ByteLimits = DEFAULT_BYTE_LIMITS,
) {
  const letter = (draft: DeadLetterDraft, failedAt: Date, forceReference = false): LetterMessage => {
    let value = toDeadLetter(region, draft, failedAt);
    let reference = draft.record.value === null || draft.record.value.byteLength === 0;
    if (forceReference || value.byteLength > limits.deadLetterBytes) {
      const left = draft.record.value?.byteLength ?? 0;
      const referenced = {
        ...draft,
        reason: `${draft.reason.slice(0, 4096)} (original of ${left} bytes left out: the dead letter would exceed the dead-letter limit or was refused by Kafka; the source offset names it)`,
      };
      value = toDeadLetter(region, referenced, failedAt, new Uint8Array());
      reference = true;
    }
    const key = draft.record.key && draft.record.key.byteLength > limits.keyBytes ? null : draft.record.key;
    return {
      key,
      value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
      headers: {
        'fabric-reason': draft.reason.slice(0, 200),
        'fabric-source': `${draft.record.topic}/${draft.record.partition}/${draft.record.offset}`,
      },
      reference,
      draft,
    };
  };
  const bytesOf = (m: LetterMessage) =>
    recordBytes({
      key: m.key?.toString('latin1'),
      value: m.value,
      headerBytes: Object.entries(m.headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0),
    });

  const send = async (messages: LetterMessage[], failedAt: Date): Promise<void> => {
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: messages.map(({ key, value, headers }) => ({ key, value, headers })),
      });
    } catch (err) {
      if (kafkaFailure(err).kind !== 'record-refused') throw err;
      if (messages.length > 1) {
        const half = Math.ceil(messages.length / 2);
        await send(messages.slice(0, half), failedAt);
        await send(messages.slice(half), failedAt);
        return;
      }
      const [refused] = messages as [LetterMessage];
      if (refused.reference) throw err;
      await send([letter(refused.draft, failedAt, true)], failedAt);
    }
  };

  return async (drafts: DeadLetterDraft[]): Promise<void> => {
    const failedAt = now();
    const messages = drafts.map((d) => letter(d, failedAt));
    for (const chunk of chunkByBytes(messages, bytesOf, limits.batchBytes)) await send(chunk, failedAt);
  };
}
