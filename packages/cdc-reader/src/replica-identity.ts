/**
 * Start-up check of the key rules against each table's replica identity, read from the
 * region's own catalog (on a physical standby it is the primary's, replayed, and readable
 * read-only). A rule that reads old values the table does not log would leave entries
 * stale on every UPDATE or DELETE while the region reports healthy, so by default the
 * reader refuses to start and names the ALTER; `--replica-identity warn` starts anyway,
 * says so, and at run time invalidates everything that renders.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import {
  IDENTITY_NAMES,
  type IdentityFindings,
  identityFindings,
  type KeyRules,
  type OldRowNeed,
  type ReplicaIdentityCode,
  type TableCatalog,
} from './rules/index.js';

export type ReplicaIdentityPolicy = 'refuse' | 'warn';

/** The rules need what the database does not give them; the message names table, rule and fix. */
export class ReplicaIdentityError extends Error {
  override readonly name = 'ReplicaIdentityError';
}

export async function readTableCatalog(
  client: pg.ClientBase,
  tables: Iterable<string>,
): Promise<Map<string, TableCatalog>> {
  const catalog = new Map<string, TableCatalog>();
  for (const table of tables) {
    const dot = table.indexOf('.');
    const { rows } = await client.query<{ relreplident: ReplicaIdentityCode; columns: string[]; identity: string[] }>(
      `select c.relreplident,
              array(select a.attname::text from pg_attribute a
                     where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns,
              array(select a.attname::text from pg_index i
                      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                     where i.indrelid = c.oid
                       and case c.relreplident when 'd' then i.indisprimary when 'i' then i.indisreplident else false end)
                as identity
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2`,
      [table.slice(0, dot), table.slice(dot + 1)],
    );
    const row = rows[0];
    // A missing table is the slot setup's to report; it runs first.
    if (row)
      catalog.set(table, { replicaIdentity: row.relreplident, identityColumns: row.identity, columns: row.columns });
  }
  return catalog;
}

export interface IdentityCheckResult {
  findings: IdentityFindings;
  /** Templates needing REPLICA IDENTITY FULL, per table (every rule table, 0 when none). */
  gapsByTable: Map<string, number>;
}

/**
 * Under `refuse` throws ReplicaIdentityError for old values the identity does not log;
 * under `warn` logs each table's gap once and returns. A template naming a column the
 * table lacks is logged either way.
 */
export function enforceReplicaIdentity(
  rules: KeyRules,
  catalog: ReadonlyMap<string, TableCatalog>,
  policy: ReplicaIdentityPolicy,
  logger: Logger,
): IdentityCheckResult {
  const findings = identityFindings(rules, catalog);
  // Said, not refused: the column may be on its way in a migration, and a reader that will
  // not start stops the invalidation of every table, not just this template's.
  for (const m of findings.missingColumns) {
    logger.warn(
      { table: m.table, template: m.path, column: m.column },
      `${m.path} ${JSON.stringify(m.template)}: ${m.table} has no column "${m.column}"; every change of the table ` +
        'dead-letters this template until the column exists or the template is fixed',
    );
  }
  const byTable = new Map<string, OldRowNeed[]>();
  for (const need of findings.oldRowNeeds) byTable.set(need.table, [...(byTable.get(need.table) ?? []), need]);
  const gapsByTable = new Map([...rules.tables.keys()].map((t) => [t, byTable.get(t)?.length ?? 0]));
  if (byTable.size === 0) return { findings, gapsByTable };

  const explain = (table: string, needs: OldRowNeed[]) => {
    const entry = catalog.get(table)!;
    const identity = entry.identityColumns.length > 0 ? entry.identityColumns.join(', ') : 'none';
    return (
      `${table} has REPLICA IDENTITY ${IDENTITY_NAMES[entry.replicaIdentity]} (old values logged for: ${identity}), ` +
      `but its key rules read other old values:\n` +
      needs.map((n) => `  ${n.path} ${JSON.stringify(n.template)}: ${describeNeed(n)}`).join('\n') +
      `\nRun: ${alterFull(table)}`
    );
  };
  if (policy === 'refuse') {
    const tables = [...byTable].map(([table, needs]) => explain(table, needs));
    throw new ReplicaIdentityError(
      `${rules.source}: ${tables.join('\n')}\nOr start with --replica-identity warn to invalidate what renders and dead-letter the rest.`,
    );
  }
  for (const [table, needs] of byTable) {
    logger.warn(
      { table, templates: needs.map((n) => n.path), fix: alterFull(table) },
      `${explain(table, needs)}\nStarting anyway (--replica-identity warn): these templates are dead-lettered on the changes they cannot render; everything else is invalidated.`,
    );
  }
  return { findings, gapsByTable };
}

function describeNeed(need: OldRowNeed): string {
  return need.old
    ? `{old.${need.column}} needs the old value on every UPDATE and DELETE`
    : `{${need.column}} needs the old value on DELETE (and on an UPDATE that leaves it TOASTed)`;
}

function alterFull(table: string): string {
  const dot = table.indexOf('.');
  return `ALTER TABLE ${quote(table.slice(0, dot))}.${quote(table.slice(dot + 1))} REPLICA IDENTITY FULL;`;
}

function quote(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}
