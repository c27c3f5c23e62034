import { unguardedPatternProblem } from '@fabric/contracts';
import { fromBinary, type InvalidationEvent, InvalidationEventSchema, Operation } from '@fabric/proto';

/**
 * `rejected`: entries left out of `event` because they can never apply, with a reason naming
 * each (`keys[2] is empty`). The rest of the event applies; the rejected part goes to the
 * dead letters on its own, so one bad entry does not leave the good ones stale.
 */
export type Decoded =
  | { ok: true; event: InvalidationEvent; rejected?: string }
  | { ok: false; cause: 'undecodable' | 'invalid'; reason: string };

const FIELDS = ['keys', 'tags', 'versions', 'patterns'] as const;

/** Why one entry can never apply; undefined when it can. */
function entryProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  return undefined;
}

/**
 * Decodes one record of the regional topic and checks what the applier relies on. Anything
 * refused here can never succeed on retry, so it goes straight to the dead letters.
 */
export function decodeInvalidation(value: Buffer | null): Decoded {
  if (!value || value.length === 0) return { ok: false, cause: 'undecodable', reason: 'undecodable: empty record' };
  let event: InvalidationEvent;
  try {
    event = fromBinary(InvalidationEventSchema, value);
  } catch (err) {
    return {
      ok: false,
      cause: 'undecodable',
      reason: `undecodable: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (event.operation === Operation.UNSPECIFIED || !(event.operation in Operation)) {
    return {
      ok: false,
      cause: 'invalid',
      reason: `invalid event ${event.id || '(no id)'}: operation ${event.operation} is not known`,
    };
  }
  // The common case, every entry fine, allocates nothing more than the event itself.
  if (event.operation !== Operation.RESYNC && allEntriesFine(event)) return { ok: true, event };
  const problems: string[] = [];
  const kept = { keys: [] as string[], tags: [] as string[], versions: [] as string[], patterns: [] as string[] };
  for (const field of FIELDS) {
    event[field].forEach((entry, i) => {
      // Whoever sent it: only an operator's explicit force (MANUAL) expands a pattern without a prefix.
      const unguarded = field === 'patterns' && !(event.force && event.operation === Operation.MANUAL);
      const problem = entryProblem(entry) ?? (unguarded ? unguardedPatternProblem(entry) : undefined);
      if (problem) problems.push(`${field}[${i}] ${problem}`);
      else kept[field].push(entry);
    });
  }
  const invalid = (detail: string): Decoded => ({
    ok: false,
    cause: 'invalid',
    reason: `invalid event ${event.id || '(no id)'}: ${detail}`,
  });
  // A resync's recovery is all or nothing: run in part, it would mark the gap repaired.
  if (event.operation === Operation.RESYNC) {
    if (problems.length > 0) return invalid(problems.join(', '));
    const problem = resyncProblem(event);
    if (problem) return { ok: false, cause: 'invalid', reason: `invalid resync ${event.id || '(no id)'}: ${problem}` };
  }
  if (problems.length === 0) return { ok: true, event };
  const left = kept.keys.length + kept.tags.length + kept.versions.length + kept.patterns.length;
  if (left === 0) return invalid(problems.join(', '));
  return {
    ok: true,
    event: { ...event, ...kept },
    rejected: `invalid entries of event ${event.id || '(no id)'}, dead-lettered apart from the rest: ${problems.join(', ')}`,
  };
}

/** True when no entry has a problem: the check below, without building its report. */
function allEntriesFine(event: InvalidationEvent): boolean {
  for (const field of FIELDS) {
    const unguarded = field === 'patterns' && !(event.force && event.operation === Operation.MANUAL);
    for (const entry of event[field])
      if (entryProblem(entry) !== undefined || (unguarded && unguardedPatternProblem(entry) !== undefined))
        return false;
  }
  return true;
}

/**
 * A resync deletes by pattern across the whole keyspace, so its patterns must name a
 * prefix, as the key rules' own do: "*" in a forged or corrupted event would empty the cache.
 */
function resyncProblem(event: InvalidationEvent): string | undefined {
  if (!event.resync?.id) return 'resync.id is empty';
  if (!event.resync.reason) return 'resync.reason is empty';
  const wild = event.patterns.findIndex((p) => /^[*?[\\]/.test(p));
  if (wild >= 0) return `patterns[${wild}] ${JSON.stringify(event.patterns[wild])} has no literal prefix`;
  return undefined;
}
