import { MESSAGE_PREFIX, OUTBOX_TABLE, parseExplicitInvalidation } from '@fabric/contracts';
import type { ClientBase } from 'pg';
import { InvalidationPayloadError } from './errors.js';

export interface ExplicitInvalidation {
  keys?: string[];
  tags?: string[];
  versions?: string[];
}

/** The JSON emitInvalidation writes for `inv`. */
export function explicitPayload(inv: ExplicitInvalidation): string {
  return JSON.stringify({ keys: inv.keys ?? [], tags: inv.tags ?? [], versions: inv.versions ?? [] });
}

/**
 * States extra invalidations inside the application's own transaction, for derived keys no
 * key rule can see. Run it on the client that holds the transaction: the message or outbox
 * row commits (or rolls back) with the change, and the CDC reader turns it into an event.
 * 'message' needs no table (pg_logical_emit_message, transactional); 'outbox' writes a row to
 * fabric.outbox. Rejects payloads the reader would send to the DLQ: the JSON about to be
 * written is checked by the reader's own rule.
 */
export async function emitInvalidation(
  client: ClientBase,
  inv: ExplicitInvalidation,
  mode: 'message' | 'outbox' = 'message',
): Promise<void> {
  const json = explicitPayload(inv);
  const checked = parseExplicitInvalidation(json);
  if (checked.status === 'error') throw new InvalidationPayloadError(checked.reason);
  if (mode === 'message') await client.query(`select pg_logical_emit_message(true, '${MESSAGE_PREFIX}', $1)`, [json]);
  else await client.query(`insert into ${OUTBOX_TABLE} (payload) values ($1::jsonb)`, [json]);
}
