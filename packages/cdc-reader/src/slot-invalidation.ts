import type pg from 'pg';

/**
 * Why PostgreSQL gave up a slot, or undefined while it is usable. A slot is invalidated
 * when it held more WAL than max_slot_wal_keep_size allows (`wal_status = 'lost'`) or, on
 * a standby, when recovery removed rows it still had to decode (`conflicting`, 16+;
 * `invalidation_reason`, 17+ names the cause). Read through to_jsonb so one query works on
 * every supported version, whichever of those columns it has.
 */
export async function slotInvalidation(client: pg.Client, slot: string): Promise<string | undefined> {
  const { rows } = await client.query<{ s: Record<string, unknown> }>(
    'select to_jsonb(s) as s from pg_replication_slots s where slot_name = $1',
    [slot],
  );
  const row = rows[0]?.s;
  return row ? invalidationReason(row) : undefined;
}

export function invalidationReason(row: Record<string, unknown>): string | undefined {
  if (typeof row.invalidation_reason === 'string' && row.invalidation_reason) return row.invalidation_reason;
  if (row.conflicting === true) return 'conflict with recovery on the standby';
  if (row.wal_status === 'lost') return 'wal_removed (the slot held more WAL than max_slot_wal_keep_size allows)';
  return undefined;
}
