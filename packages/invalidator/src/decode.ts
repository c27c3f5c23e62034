import { fromBinary, type InvalidationEvent, InvalidationEventSchema, Operation } from '@fabric/proto';

export type Decoded =
  | { ok: true; event: InvalidationEvent }
  | { ok: false; cause: 'undecodable' | 'invalid'; reason: string };

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
  for (const field of ['keys', 'tags', 'versions', 'patterns'] as const) {
    const at = event[field].findIndex((k) => k.length === 0);
    if (at >= 0)
      return {
        ok: false,
        cause: 'invalid',
        reason: `invalid event ${event.id || '(no id)'}: ${field}[${at}] is empty`,
      };
  }
  if (event.operation === Operation.RESYNC) {
    const problem = resyncProblem(event);
    if (problem) return { ok: false, cause: 'invalid', reason: `invalid resync ${event.id || '(no id)'}: ${problem}` };
  }
  return { ok: true, event };
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
