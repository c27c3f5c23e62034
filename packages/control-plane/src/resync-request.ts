import { resyncId } from '@fabric/contracts';
import type { ResyncRequest } from '@fabric/proto';
import type { RegionConfig } from './config.js';
import type { RegionDirectory } from './regions.js';
import { RpcError } from './rpc-error.js';

export const MAX_RESYNC_REASON = 500;

/** What an operator's resync asks for, checked: the region, and why (for the resync's detail). */
export interface ResyncPlan {
  region: RegionConfig;
  /** Trimmed; empty when none was given. */
  reason: string;
}

/**
 * Checks a Resync request, naming the bad field. The reason ends up in the invalidator's
 * status and logs and in `fabric lag`, one line each: control characters would break those
 * lines, and a bounded length keeps it a note, not a document.
 */
export function planResync(req: ResyncRequest, regions: RegionDirectory): ResyncPlan {
  if (req.region.trim() === '') throw RpcError.invalidArgument('region', 'name the region to resync');
  const region = regions.get('region', req.region);
  const reason = req.reason.trim();
  const length = [...reason].length;
  if (length > MAX_RESYNC_REASON)
    throw RpcError.invalidArgument('reason', `at most ${MAX_RESYNC_REASON} characters, got ${length}`);
  if ([...reason].some(isControl))
    throw RpcError.invalidArgument('reason', 'must be one line of text, without control characters');
  return { region, reason };
}

/**
 * The id and detail of an operator's resync. The id is new on every request: asking again
 * runs the recovery again, which is what an operator who asks twice means.
 */
export function operatorResync(
  plan: ResyncPlan,
  principal: string | undefined,
  now: Date,
): { id: string; detail: string } {
  return {
    id: resyncId(plan.region.name, `operator:${now.getTime()}`),
    detail: `asked by ${principal ?? 'an unknown caller'}: ${plan.reason || 'no reason given'}`,
  };
}

function isControl(c: string): boolean {
  const code = c.codePointAt(0)!;
  return code < 0x20 || code === 0x7f;
}
