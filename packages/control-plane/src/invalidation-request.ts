import type { MessageInitShape } from '@bufbuild/protobuf';
import { unguardedPatternProblem } from '@fabric/contracts';
import { type InvalidateRequest, type InvalidationEventSchema, Operation, timestampFromDate } from '@fabric/proto';
import type { RegionConfig } from './config.js';
import type { RegionDirectory } from './regions.js';
import { RpcError } from './rpc-error.js';

export type TargetKind = 'key' | 'tag' | 'pattern';

export interface InvalidationTarget {
  kind: TargetKind;
  value: string;
}

export interface InvalidationPlan {
  regions: RegionConfig[];
  /** In request order: keys, then tags, then patterns. */
  targets: InvalidationTarget[];
  /** Patterns without a literal prefix were asked for explicitly; the events say so. */
  force: boolean;
}

export const MAX_TARGETS = 1000;
const MAX_LENGTH = 1024;

/**
 * Checks an Invalidate request, naming the first bad field. A pattern without a literal
 * prefix would make the invalidator SCAN and delete keys of every kind in a regional cache,
 * which an operator must ask for explicitly with `force` (see @fabric/contracts' guard,
 * which the invalidator applies to every event too).
 */
export function planInvalidation(req: InvalidateRequest, regions: RegionDirectory): InvalidationPlan {
  if (req.regions.length === 0) throw RpcError.invalidArgument('regions', 'name at least one region');
  const seen = new Set<string>();
  const chosen = req.regions.map((name, i) => {
    if (seen.has(name)) throw RpcError.invalidArgument(`regions[${i}]`, `${JSON.stringify(name)} is listed twice`);
    seen.add(name);
    return regions.get(`regions[${i}]`, name);
  });
  const targets: InvalidationTarget[] = [
    ...checked('keys', 'key', req.keys),
    ...checked('tags', 'tag', req.tags),
    ...checked('patterns', 'pattern', req.patterns),
  ];
  if (targets.length === 0) throw RpcError.invalidArgument('keys', 'give at least one key, tag or pattern');
  if (targets.length > MAX_TARGETS)
    throw RpcError.invalidArgument(
      'keys',
      `at most ${MAX_TARGETS} keys, tags and patterns together per request, got ${targets.length}`,
    );
  req.patterns.forEach((p, i) => {
    const problem = req.force ? undefined : unguardedPatternProblem(p);
    if (problem) throw RpcError.invalidArgument(`patterns[${i}]`, problem);
  });
  return { regions: chosen, targets, force: req.force };
}

function checked(field: string, kind: TargetKind, values: string[]): InvalidationTarget[] {
  return values.map((value, i) => {
    if (value.trim() === '') throw RpcError.invalidArgument(`${field}[${i}]`, 'must not be empty');
    if (value.length > MAX_LENGTH)
      throw RpcError.invalidArgument(`${field}[${i}]`, `longer than ${MAX_LENGTH} characters`);
    return { kind, value };
  });
}

/**
 * One MANUAL event per target, so each lands on the partition of its own key (the Kafka
 * key), in order with the region's other events for that key. Times are "now": a manual
 * invalidation has no source commit, and freshness must not jump backwards for it.
 */
export function manualEvents(
  plan: InvalidationPlan,
  region: string,
  requestId: string,
  now: Date,
): Array<{ key: string; event: MessageInitShape<typeof InvalidationEventSchema> }> {
  const at = timestampFromDate(now);
  return plan.targets.map((t, n) => ({
    key: t.value,
    event: {
      id: `manual:${requestId}:${n}`,
      region,
      operation: Operation.MANUAL,
      primaryCommitTime: at,
      emittedTime: at,
      keys: t.kind === 'key' ? [t.value] : [],
      tags: t.kind === 'tag' ? [t.value] : [],
      patterns: t.kind === 'pattern' ? [t.value] : [],
      force: t.kind === 'pattern' && plan.force,
    },
  }));
}
