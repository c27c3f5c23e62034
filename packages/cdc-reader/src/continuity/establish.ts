import { type ReaderContinuity, type RecoveryAction, resyncEvent, resyncId } from '@fabric/contracts';
import { InvalidationEventSchema, toBinary } from '@fabric/proto';
import type { Logger } from 'pino';
import type { SendBatch } from '../publisher.js';
import type { SlotAndPublicationResult } from '../slot-setup.js';
import type { DatabaseIdentity } from './database-identity.js';
import { judgeContinuity } from './judge.js';
import type { ContinuityStore } from './record-store.js';

export interface EstablishOptions {
  region: string;
  slot: string;
  topic: string;
  partitions: number;
  store: ContinuityStore;
  identity: DatabaseIdentity;
  setup: SlotAndPublicationResult;
  /** The key rules' recovery actions, merged: what the RESYNC carries and the record keeps. */
  recovery: RecoveryAction;
  /** Resolves once Kafka acknowledged every message. */
  send: SendBatch;
  logger: Logger;
  onGap?: (reason: string) => void;
}

/**
 * The check at every start: judge the stream against the record, publish a RESYNC to
 * every partition when there is a gap (before a single change of the new stream, so it
 * is ordered after everything published before it), and only then record the stream
 * as the one that continues. A crash between the two publishes the same resync id
 * again at the next start, which the invalidator runs once.
 */
export async function establishContinuity(opts: EstablishOptions): Promise<ReaderContinuity> {
  const { identity, setup, store, logger } = opts;
  const record = await store.read();
  const slotConfirmedLsn = setup.confirmedFlushLsn ?? '0/0';
  const verdict = judgeContinuity(
    record,
    {
      systemId: identity.systemId,
      timeline: identity.timeline,
      slot: opts.slot,
      slotCreated: setup.createdSlot,
      slotInvalidated: setup.replacedInvalidated,
      slotConfirmedLsn,
    },
    identity.timelineSwitch,
  );
  const checkedAt = new Date().toISOString();
  let result: ReaderContinuity;
  if (verdict.verdict === 'gap') {
    const id = resyncId(opts.region, `${opts.slot}@${slotConfirmedLsn}`);
    const event = resyncEvent({
      region: opts.region,
      id,
      reason: verdict.reason,
      detail: verdict.detail,
      recovery: opts.recovery,
      copies: opts.partitions,
      sourceLsn: slotConfirmedLsn,
    });
    const value = toBinary(InvalidationEventSchema, event);
    await opts.send(
      Array.from({ length: opts.partitions }, (_, partition) => ({
        topic: opts.topic,
        key: 'resync',
        partition,
        value,
      })),
    );
    opts.onGap?.(verdict.reason);
    logger.error(
      { reason: verdict.reason, resync: id, partitions: opts.partitions },
      `continuity gap: ${verdict.detail}; published a resync, the region's recovery action runs before anything newer applies`,
    );
    result = { verdict: 'gap', reason: verdict.reason, detail: verdict.detail, resyncId: id, checkedAt };
  } else if (verdict.verdict === 'first-start') {
    logger.warn(verdict.detail);
    result = { verdict: 'first-start', detail: verdict.detail, checkedAt };
  } else {
    if (verdict.detail) logger.info(verdict.detail);
    result = { verdict: 'continuous', detail: verdict.detail, checkedAt };
  }
  await store.write({
    systemId: identity.systemId,
    timeline: identity.timeline,
    slot: opts.slot,
    // A stream that continues keeps its start; anything else starts where the slot is now.
    slotStart: record && verdict.verdict === 'continuous' ? record.slotStart : slotConfirmedLsn,
    confirmedLsn: slotConfirmedLsn,
    recovery: opts.recovery,
  });
  return result;
}
