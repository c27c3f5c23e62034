/**
 * Idempotent setup of the reader's publication and logical replication slot.
 *
 * Order matters: the publication is created BEFORE the slot. pgoutput looks the publication
 * up with the historic catalog snapshot of each decoded change, so a slot that starts before
 * its publication existed fails with "publication ... does not exist" on the first change.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { publicationState } from './publication-state.js';
import { SlotSetupError, slotInvalidatedError } from './slot-errors.js';
import { slotInvalidation } from './slot-invalidation.js';
import { awaitPublication } from './standby-publication.js';

export interface SlotAndPublicationOptions {
  slot: string;
  publication: string;
  /** "schema.table" (or "table", meaning public.table). Names are taken literally (case kept), never parsed as SQL. */
  tables: string[];
  /** On a standby: how long to wait for the publication to arrive from the primary (ms, default 120000). */
  publicationWaitMs?: number;
  /** Told when setup waits for the primary (a publication to arrive, a running-transactions record). */
  onWait?: (message: string) => void;
  /**
   * An invalidated slot is dropped and created again instead of refused. Only for a reader
   * that checks continuity: the new slot starts past the lost WAL, and only a resync
   * makes that safe.
   */
  replaceInvalidated?: boolean;
}

export interface SlotAndPublicationResult {
  createdPublication: boolean;
  /** Tables added to an already existing publication ("schema.table"). */
  addedTables: string[];
  createdSlot: boolean;
  /** Why the slot found was unusable, when it was replaced (see replaceInvalidated). */
  replacedInvalidated?: string;
  /** The slot's confirmed_flush_lsn after setup ("X/Y"). */
  confirmedFlushLsn: string | null;
}

export { SlotSetupError } from './slot-errors.js';

/** Double-quotes an identifier, doubling embedded quotes. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new SlotSetupError('empty identifier');
  if (name.includes('\u0000')) throw new SlotSetupError(`identifier contains NUL: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

export interface TableName {
  schema: string;
  name: string;
}

/** Splits "schema.table" at the first dot; a bare name is in schema public. */
export function parseTableName(table: string): TableName {
  const dot = table.indexOf('.');
  const parsed =
    dot < 0 ? { schema: 'public', name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
  if (!parsed.schema || !parsed.name)
    throw new SlotSetupError(`invalid table name ${JSON.stringify(table)} (expected "schema.table")`);
  return parsed;
}

function sqlTable(t: TableName): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}

function key(t: TableName): string {
  return `${t.schema}.${t.name}`;
}

const DUPLICATE_OBJECT = '42710';

/**
 * Checks that a table exists and can publish UPDATE/DELETE. Adding a table without a usable
 * replica identity to a publication makes every UPDATE/DELETE on it FAIL at the source (and
 * would break a subscription applying into it), so that is refused here.
 */
async function checkTable(client: pg.Client, t: TableName): Promise<void> {
  const { rows } = await client.query<{
    relreplident: string;
    relkind: string;
    has_pk: boolean;
    has_ri_index: boolean;
  }>(
    `select c.relreplident, c.relkind,
            exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary) as has_pk,
            exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisreplident) as has_ri_index
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relname = $2`,
    [t.schema, t.name],
  );
  const row = rows[0];
  if (!row) throw new SlotSetupError(`table ${key(t)} does not exist`);
  if (row.relkind !== 'r' && row.relkind !== 'p')
    throw new SlotSetupError(`${key(t)} is not a table (relkind ${row.relkind})`);
  const usable =
    row.relreplident === 'f' ||
    (row.relreplident === 'd' && row.has_pk) ||
    (row.relreplident === 'i' && row.has_ri_index);
  if (!usable) {
    throw new SlotSetupError(
      `table ${key(t)} has no usable replica identity (REPLICA IDENTITY ${row.relreplident === 'n' ? 'NOTHING' : 'DEFAULT without a primary key'}); ` +
        'publishing it would make UPDATE/DELETE fail at the source. Add a primary key or set REPLICA IDENTITY FULL.',
    );
  }
}

async function slotState(
  client: pg.Client,
  slot: string,
): Promise<
  { plugin: string | null; slot_type: string; database: string | null; confirmed_flush_lsn: string | null } | undefined
> {
  const { rows } = await client.query(
    'select plugin, slot_type, database, confirmed_flush_lsn from pg_replication_slots where slot_name = $1',
    [slot],
  );
  return rows[0];
}

function isDuplicate(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === DUPLICATE_OBJECT;
}

/**
 * Creates the publication FOR TABLE `tables` if missing, adds tables missing from an existing
 * publication, and creates the logical slot with pgoutput if missing. Idempotent, and safe
 * against a concurrent reader doing the same. Does not remove tables from the publication.
 * `client` must be a normal (non-replication) connection, not inside a transaction.
 */
export async function ensureSlotAndPublication(
  client: pg.Client,
  opts: SlotAndPublicationOptions,
): Promise<SlotAndPublicationResult> {
  const tables: TableName[] = [];
  const seen = new Set<string>();
  for (const table of opts.tables) {
    const t = parseTableName(table);
    if (!seen.has(key(t))) {
      seen.add(key(t));
      tables.push(t);
    }
  }
  for (const t of tables) await checkTable(client, t);
  const onWait = opts.onWait ?? (() => undefined);
  const standby = (await client.query<{ standby: boolean }>('select pg_is_in_recovery() as standby')).rows[0]!.standby;
  const published = standby
    ? await standbyPublication(client, { ...opts, onWait }, tables)
    : await ensurePublication(client, opts.publication, tables);

  let createdSlot = false;
  let replacedInvalidated: string | undefined;
  let slot = await slotState(client, opts.slot);
  if (slot && opts.replaceInvalidated) {
    replacedInvalidated = await slotInvalidation(client, opts.slot);
    if (replacedInvalidated) {
      onWait(`slot ${opts.slot} is invalidated (${replacedInvalidated}); dropping it to create it again`);
      await client.query('select pg_drop_replication_slot($1)', [opts.slot]);
      slot = undefined;
    }
  }
  if (!slot) {
    // On a standby the slot needs a running-transactions record from the primary to build its
    // first snapshot: pg_log_standby_snapshot() there, or the next one the primary logs by itself.
    if (standby) onWait(`creating slot ${opts.slot} on a standby waits for the primary to log running transactions`);
    try {
      await client.query(await createSlotSql(client, standby), [opts.slot]);
      createdSlot = true;
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
    slot = await slotState(client, opts.slot);
    if (!slot) throw new SlotSetupError(`replication slot ${opts.slot} vanished while being created`);
  }
  if (slot.slot_type !== 'logical' || slot.plugin !== 'pgoutput') {
    throw new SlotSetupError(
      `replication slot ${opts.slot} exists but is ${slot.slot_type}/${slot.plugin ?? 'no plugin'}, expected logical/pgoutput`,
    );
  }
  const db = (await client.query<{ db: string }>('select current_database() as db')).rows[0]!.db;
  if (slot.database !== db) {
    throw new SlotSetupError(`replication slot ${opts.slot} belongs to database ${slot.database}, not ${db}`);
  }
  const invalidated = await slotInvalidation(client, opts.slot);
  if (invalidated) throw slotInvalidatedError(opts.slot, invalidated, standby);
  return { ...published, createdSlot, replacedInvalidated, confirmedFlushLsn: slot.confirmed_flush_lsn };
}

/**
 * On a PostgreSQL 17+ primary the slot is a failover slot: a standby of this same region
 * that sets sync_replication_slots keeps a synchronised copy, so promoting it (an in-region
 * failover) keeps the region's stream and no resync is needed. Without such a standby the
 * flag does nothing. A standby cannot create one (its own slots are local by definition).
 */
async function createSlotSql(client: pg.Client, standby: boolean): Promise<string> {
  const version = Number(
    (await client.query<{ v: string }>("select current_setting('server_version_num') as v")).rows[0]!.v,
  );
  return !standby && version >= 170000
    ? "select pg_create_logical_replication_slot($1, 'pgoutput', false, false, true)"
    : "select pg_create_logical_replication_slot($1, 'pgoutput')";
}

async function standbyPublication(
  client: pg.Client,
  opts: SlotAndPublicationOptions & { onWait: (message: string) => void },
  tables: TableName[],
): Promise<{ createdPublication: boolean; addedTables: string[] }> {
  const problem = await awaitPublication(client, {
    publication: opts.publication,
    tables: tables.map(key),
    timeoutMs: opts.publicationWaitMs ?? 120_000,
    onWait: opts.onWait,
    sleep: (ms) => sleep(ms),
  });
  if (problem) {
    throw new SlotSetupError(
      `${problem}. A standby cannot create it: create it once at the primary (CREATE PUBLICATION ${quoteIdent(opts.publication)} ` +
        `FOR TABLE ${tables.map(sqlTable).join(', ')}; the home region's reader does this when it starts) and it arrives by replication.`,
    );
  }
  return { createdPublication: false, addedTables: [] };
}

async function ensurePublication(
  client: pg.Client,
  publication: string,
  tables: TableName[],
): Promise<{ createdPublication: boolean; addedTables: string[] }> {
  let createdPublication = false;
  const addedTables: string[] = [];
  let pub = await publicationState(client, publication);
  if (!pub) {
    const sql =
      tables.length > 0
        ? `CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${tables.map(sqlTable).join(', ')}`
        : `CREATE PUBLICATION ${quoteIdent(publication)}`;
    try {
      await client.query(sql);
      createdPublication = true;
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
    pub = await publicationState(client, publication);
    if (!pub) throw new SlotSetupError(`publication ${publication} vanished while being created`);
  }
  if (!pub.allTables) {
    for (const t of tables) {
      if (pub.tables.has(key(t))) continue;
      try {
        await client.query(`ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${sqlTable(t)}`);
        addedTables.push(key(t));
      } catch (err) {
        if (!isDuplicate(err)) throw err; // a concurrent reader added it first
      }
    }
  }

  return { createdPublication, addedTables };
}
