import { ContinuityState, type RegionContinuity, timestampDate } from '@fabric/control-plane';

/**
 * A region's continuity in one cell: "ok" when it never resynced, the running resync, or
 * the last one that finished. "?" when the invalidator did not say: unknown is not "ok".
 */
export function continuityCell(c: RegionContinuity | undefined): string {
  if (!c || c.state === ContinuityState.UNSPECIFIED) return '?';
  const reason = c.reason || 'unknown reason';
  const keys = c.keysDropped === undefined ? '?' : String(c.keysDropped);
  if (c.state === ContinuityState.RESYNCING)
    return `resyncing (${reason}, since ${when(c.startedTime)}, ${keys} keys dropped)`;
  if (!c.resyncId) return 'ok';
  return `ok, last resync ${reason} at ${when(c.finishedTime)} (${keys} keys)`;
}

function when(t: RegionContinuity['startedTime']): string {
  return t
    ? timestampDate(t)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
    : '?';
}
