import type { ClientBase } from 'pg';
import { InvalidationPayloadError } from './errors.js';

export interface ExplicitInvalidation {
  keys?: string[];
  tags?: string[];
  versions?: string[];
}

/**
 * States extra invalidations inside the application's own transaction, for derived keys no
 * key rule can see. Run it on the client that holds the transaction: the message or outbox
 * row commits (or rolls back) with the change, and the CDC reader turns it into an event.
 * 'message' needs no table (pg_logical_emit_message, transactional); 'outbox' writes a row to
 * fabric.outbox. Rejects payloads the reader would send to the DLQ.
 */
export async function emitInvalidation(
  client: ClientBase,
  inv: ExplicitInvalidation,
  mode: 'message' | 'outbox' = 'message',
): Promise<void> {
  const payload = { keys: inv.keys ?? [], tags: inv.tags ?? [], versions: inv.versions ?? [] };
  const all = [...payload.keys, ...payload.tags, ...payload.versions];
  if (all.length === 0)
    throw new InvalidationPayloadError('an explicit invalidation needs at least one key, tag or version');
  if (all.some((s) => typeof s !== 'string' || s === ''))
    throw new InvalidationPayloadError('keys, tags and versions must be non-empty strings');
  const json = JSON.stringify(payload);
  if (mode === 'message') await client.query("select pg_logical_emit_message(true, 'fabric', $1)", [json]);
  else await client.query('insert into fabric.outbox (payload) values ($1::jsonb)', [json]);
}
