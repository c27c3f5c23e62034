import { create, type InvalidationEvent, InvalidationEventSchema, Operation, timestampFromDate } from '@fabric/proto';
import type { RecoveryAction, ResyncReason } from './continuity.js';

export interface ResyncEventInput {
  region: string;
  /** Unique per resync; every partition's copy carries it (see resyncId). */
  id: string;
  reason: ResyncReason;
  detail: string;
  /** Empty: the invalidator applies the recovery action the region's reader recorded. */
  recovery?: RecoveryAction;
  /** Copies sent, one per partition. */
  copies: number;
  sourceLsn?: string;
  now?: Date;
}

/** A resync id: the region, and where the stream resumes (or when it was asked for). */
export function resyncId(region: string, at: string): string {
  return `${region}:resync:${at}`;
}

/** The RESYNC event every emitter (reader, control plane) publishes, one copy per partition. */
export function resyncEvent(input: ResyncEventInput): InvalidationEvent {
  const now = input.now ?? new Date();
  const recovery = input.recovery ?? { keys: [], tags: [], versions: [], patterns: [] };
  return create(InvalidationEventSchema, {
    id: input.id,
    region: input.region,
    sourceLsn: input.sourceLsn ?? '',
    // Freshness reads commit times; a resync is "now" for it, and nothing after it is fresh before it applied.
    primaryCommitTime: timestampFromDate(now),
    operation: Operation.RESYNC,
    keys: recovery.keys,
    tags: recovery.tags,
    versions: recovery.versions,
    patterns: recovery.patterns,
    emittedTime: timestampFromDate(now),
    resync: {
      id: input.id,
      reason: input.reason,
      detail: input.detail,
      detectedTime: timestampFromDate(now),
      copies: input.copies,
    },
  });
}
