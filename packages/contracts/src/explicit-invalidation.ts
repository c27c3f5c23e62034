/**
 * Explicit invalidations written by the application in the same transaction as its change:
 * `pg_logical_emit_message(true, 'fabric', '<json>')` or an outbox row. The payload comes from
 * application code at run time, so a bad one is reported (for the DLQ), never thrown.
 *
 * The reader decides with this what becomes an event and what a dead letter; the SDK checks
 * the exact JSON it is about to write with it, so it refuses just what the reader would
 * dead-letter.
 */
export type ExplicitResult =
  | { status: 'ok'; keys: string[]; tags: string[]; versions: string[] }
  | { status: 'error'; reason: string };

const FIELDS = ['keys', 'tags', 'versions'] as const;

/** Bounds one transaction's fan-out so a buggy writer cannot produce an unbounded batch. */
export const MAX_EXPLICIT_ENTRIES = 10_000;

/**
 * Bounds one payload's bytes (UTF-8): the reader holds a whole payload, and every event it
 * becomes, in memory at once, before backpressure can act. Room for the entry limit of
 * keys of a few hundred bytes; the reader splits what it publishes by the Kafka limits.
 */
export const MAX_EXPLICIT_PAYLOAD_BYTES = 4 * 1024 * 1024;

/**
 * What PostgreSQL's jsonb (and Redis, which gets UTF-8) cannot take although JSON.parse
 * does: U+0000, and a lone UTF-16 surrogate, which is not Unicode text at all (UTF-8
 * encoding would turn it into U+FFFD and invalidate a different key).
 */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains U+0000 (\\u0000), which PostgreSQL jsonb cannot store';
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value))
    return 'contains a lone UTF-16 surrogate (\\uD800-\\uDFFF), which is not Unicode text';
  return undefined;
}

export function parseExplicitInvalidation(text: string): ExplicitResult {
  const error = (reason: string): ExplicitResult => ({ status: 'error', reason: `explicit invalidation: ${reason}` });

  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_EXPLICIT_PAYLOAD_BYTES)
    return error(`payload is ${bytes} bytes, above the limit of ${MAX_EXPLICIT_PAYLOAD_BYTES} bytes; send it in parts`);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    return error(`payload is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return error('payload must be a JSON object like {"keys": [...], "tags": [...], "versions": [...]}');
  }
  const record = payload as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (!(FIELDS as readonly string[]).includes(name)) {
      return error(`unknown field ${JSON.stringify(name)}; expected keys, tags and/or versions`);
    }
  }

  const out = { keys: [] as string[], tags: [] as string[], versions: [] as string[] };
  let total = 0;
  for (const field of FIELDS) {
    const value = record[field];
    if (value === undefined) continue;
    if (!Array.isArray(value)) return error(`${field} must be an array of non-empty strings`);
    total += value.length;
    if (total > MAX_EXPLICIT_ENTRIES) return error(`more than ${MAX_EXPLICIT_ENTRIES} entries in total`);
    const seen = new Set<string>();
    for (const [i, item] of (value as unknown[]).entries()) {
      if (typeof item !== 'string' || item === '') return error(`${field}[${i}] must be a non-empty string`);
      const problem = textProblem(item);
      if (problem) return error(`${field}[${i}] ${problem}`);
      if (!seen.has(item)) out[field].push(item);
      seen.add(item);
    }
  }
  if (out.keys.length + out.tags.length + out.versions.length === 0) {
    return error('payload must list at least one key, tag or version');
  }
  return { status: 'ok', ...out };
}
