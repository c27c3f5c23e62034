import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ContinuityState, InvalidatorStatusReading, ReaderStatusReading } from '@fabric/contracts';
import { ContinuityState as ContinuityStateProto, type RegionContinuitySchema, timestampFromDate } from '@fabric/proto';
import type { Observed } from './probes/observed.js';

export type RegionContinuity = MessageInitShape<typeof RegionContinuitySchema>;

/**
 * The region's continuity from its invalidator's answer, with what the reader's start check
 * found. Only the invalidator knows whether a resync runs: without its word the whole
 * report stays unset, since "no resync known" must never read as "ok".
 */
export function regionContinuity(
  invalidator: InvalidatorStatusReading | undefined,
  reader: ReaderStatusReading | undefined,
): RegionContinuity | undefined {
  const c = invalidator?.continuity;
  if (!c) return undefined;
  return {
    state: c.state === 'resyncing' ? ContinuityStateProto.RESYNCING : ContinuityStateProto.OK,
    resyncId: c.resyncId ?? '',
    reason: c.reason ?? '',
    detail: c.detail ?? '',
    startedTime: timestamp(c.startedAt),
    finishedTime: timestamp(c.finishedAt),
    keysDropped: c.keysDropped === undefined || c.keysDropped < 0 ? undefined : BigInt(Math.round(c.keysDropped)),
    readerVerdict: reader?.continuity?.verdict ?? '',
  };
}

/**
 * A running resync makes the region unhealthy even though every process answers: until its
 * recovery action has run, entries cached before the gap may be stale. Undefined when no
 * resync runs (or nobody knows), so the component is only listed while it matters.
 */
export function continuityHealth(c: ContinuityState | undefined): Observed<unknown> | undefined {
  if (c?.state !== 'resyncing') return undefined;
  return {
    status: 'unhealthy',
    detail: `resyncing since ${c.startedAt ?? 'an unknown time'}: ${c.reason ?? 'no reason given'}`,
    value: c,
  };
}

function timestamp(iso: string | undefined) {
  return iso === undefined ? undefined : timestampFromDate(new Date(iso));
}
