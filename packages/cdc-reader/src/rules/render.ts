/**
 * Row change (or TRUNCATE) -> cache operations. Never throws: a template that cannot be
 * rendered comes back with a reason for the dead-letter queue, because silently dropping it
 * would leave a stale cache entry nobody knows about. Each template stands alone: one that
 * fails (an old value the replica identity did not log, an empty rendering) never holds
 * back the others, whose keys are just as stale.
 */
import type { ColumnValue, Row, RowChange } from './change.js';
import { type KeyRules, OPERATION_KINDS, type OperationKind, type TableRule } from './schema.js';
import { type Lookup, type LookupResult, placeholders, renderTemplate, usesOldRow } from './template.js';

/** One template of the rule that could not be rendered for this change. */
export interface RenderFailure {
  kind: OperationKind;
  index: number;
  /** The template as written in the rules file. */
  template: string;
  /** Rule, change, row identity and cause, ready for the dead letter. */
  reason: string;
}

/**
 * `ok`: every template rendered (a NULL placeholder renders nothing, deliberately).
 * `partial`: some failed; what rendered is still to be published, the failures go to the
 * DLQ (`reason` joins theirs). `error`: templates failed and nothing rendered at all.
 */
export type RenderResult =
  | { status: 'ok'; keys: string[]; tags: string[]; versions: string[] }
  | { status: 'partial'; keys: string[]; tags: string[]; versions: string[]; failures: RenderFailure[]; reason: string }
  | { status: 'skip'; skip: SkipCause; reason: string }
  | { status: 'error'; failures: RenderFailure[]; reason: string };

/** Why nothing was rendered: no rule names the table, or an UPDATE the rule does not watch. */
export type SkipCause = 'no-rule' | 'unwatched-columns';

export type TruncateResult =
  | { status: 'ok'; keys: string[]; tags: string[]; versions: string[]; patterns: string[] }
  | { status: 'skip'; skip: 'no-rule'; reason: string }
  | { status: 'error'; reason: string };

const has = (row: Row | undefined, column: string): row is Row => row !== undefined && Object.hasOwn(row, column);

const found = (value: ColumnValue): LookupResult => ({ ok: true, value });
const missing = (error: string): LookupResult => ({ ok: false, error });

const fullIdentityHint = (table: string) => `; run ALTER TABLE ${table} REPLICA IDENTITY FULL`;

/** `{col}` on INSERT/UPDATE. */
function newValue(change: RowChange, column: string): LookupResult {
  if (change.unchangedToast.includes(column)) {
    // pgoutput left the value out ('u'); only an old row can supply it. Guessing (or using
    // undefined) would render a key that does not exist and leave the real one stale.
    if (has(change.oldRow, column)) return found(change.oldRow[column] ?? null);
    return missing(
      `column "${column}" is an unchanged TOASTed value that pgoutput did not send` + fullIdentityHint(change.table),
    );
  }
  if (has(change.newRow, column)) return found(change.newRow[column] ?? null);
  return missing(`column "${column}" is not in the new row (does the table have this column?)`);
}

/** `{col}` and `{old.col}` on DELETE, `{old.col}` on UPDATE. */
function oldValue(change: RowChange, column: string): LookupResult {
  if (has(change.oldRow, column)) return found(change.oldRow[column] ?? null);
  const isKey = change.keyColumns.includes(column);
  if (change.kind === 'update' && change.oldRow === undefined && isKey) {
    // With REPLICA IDENTITY DEFAULT pgoutput omits the old tuple exactly when the key did
    // not change, so the old key value is the new one.
    return newValue(change, column);
  }
  if (change.oldRow === undefined) {
    return missing(
      `old value of column "${column}" is not available: pgoutput sent no old row` + fullIdentityHint(change.table),
    );
  }
  return missing(`column "${column}" is not in the old row` + (isKey ? '' : fullIdentityHint(change.table)));
}

function lookupFor(change: RowChange): Lookup {
  return (column: string, old: boolean): LookupResult =>
    change.kind === 'delete' || old ? oldValue(change, column) : newValue(change, column);
}

/** Key column values, for the DLQ reason: enough for an operator to find the row. */
function rowIdentity(change: RowChange): string {
  if (change.keyColumns.length === 0) return 'unknown (table has REPLICA IDENTITY NOTHING)';
  const lookup = lookupFor(change);
  return change.keyColumns
    .map((column) => {
      const r = lookup(column, false);
      return `${column}=${!r.ok ? '?' : r.value === null ? 'NULL' : r.value}`;
    })
    .join(', ');
}

/**
 * Did an UPDATE touch anything the rule cares about? The watched set is when_columns plus
 * every column the templates use: if a placeholder column changes, the row moved to another
 * key/tag and the old one must be invalidated even if the author forgot to list it.
 * Unknown means changed: a needless invalidation is cheap, a skipped one is a stale cache.
 */
function touchesWatchedColumn(rule: TableRule, whenColumns: readonly string[], change: RowChange): boolean {
  for (const column of watchedColumns(rule, whenColumns)) {
    if (change.unchangedToast.includes(column)) continue; // 'u' means unchanged by definition
    if (!has(change.oldRow, column) || !has(change.newRow, column)) return true;
    if (change.oldRow[column] !== change.newRow[column]) return true;
  }
  return false;
}

// Rules are immutable once loaded; the set is computed on first use instead of per change.
const watchedByRule = new WeakMap<TableRule, readonly string[]>();

function watchedColumns(rule: TableRule, whenColumns: readonly string[]): readonly string[] {
  let watched = watchedByRule.get(rule);
  if (watched === undefined) {
    const set = new Set(whenColumns);
    for (const kind of OPERATION_KINDS) {
      for (const t of rule[kind]) for (const p of placeholders(t)) set.add(p.column);
    }
    watched = [...set];
    watchedByRule.set(rule, watched);
  }
  return watched;
}

export function renderChange(rules: KeyRules, change: RowChange): RenderResult {
  const rule = rules.tables.get(change.table);
  if (!rule) return { status: 'skip', skip: 'no-rule', reason: `no key rule for table ${change.table}` };

  if (change.kind === 'update' && rule.whenColumns && !touchesWatchedColumn(rule, rule.whenColumns, change)) {
    return {
      status: 'skip',
      skip: 'unwatched-columns',
      reason: `update of ${change.table} changed none of when_columns [${rule.whenColumns.join(', ')}] nor any template column`,
    };
  }

  const lookup = lookupFor(change);
  const out = { keys: [] as string[], tags: [] as string[], versions: [] as string[] };
  const failures: RenderFailure[] = [];
  for (const kind of OPERATION_KINDS) {
    const seen = new Set<string>();
    for (const [index, template] of rule[kind].entries()) {
      // An insert has no old row, so an {old.*} template has nothing to invalidate.
      if (change.kind === 'insert' && usesOldRow(template)) continue;
      const r = renderTemplate(template, lookup);
      // An empty string is no cache name: Redis would take it as a key of its own and the
      // invalidator refuses it. Unlike NULL it is a value, so the entry it stood for is unknown.
      const error = !r.ok
        ? r.error
        : r.value === ''
          ? 'renders an empty string (every placeholder was empty)'
          : undefined;
      if (error !== undefined) {
        const where = `${kind}[${index}] ${JSON.stringify(template.source)}`;
        const reason = `cannot render ${where} for ${change.kind} on ${change.table} (row ${rowIdentity(change)}): ${error}`;
        failures.push({ kind, index, template: template.source, reason });
        continue;
      }
      // NULL placeholder -> no operation. A NULL group (e.g. a user without a team) has no
      // cache entry to invalidate, and rendering "team::members" or "team:null:members"
      // could hit an unrelated key. Deliberately not an error.
      if (!r.ok || r.value === null || seen.has(r.value)) continue;
      seen.add(r.value);
      out[kind].push(r.value);
    }
  }
  if (failures.length === 0) return { status: 'ok', ...out };
  const reason = failures.map((f) => f.reason).join(' | ');
  if (out.keys.length + out.tags.length + out.versions.length === 0) return { status: 'error', failures, reason };
  return { status: 'partial', ...out, failures, reason };
}

export function renderTruncate(rules: KeyRules, table: string): TruncateResult {
  const rule = rules.tables.get(table);
  if (!rule) return { status: 'skip', skip: 'no-rule', reason: `no key rule for table ${table}` };
  // Without an explicit rule we cannot know which keys a TRUNCATE made stale; say how to fix it.
  if (!rule.truncate) {
    return {
      status: 'error',
      reason: `no truncate rule for table ${table}; add tables[${JSON.stringify(table)}].truncate`,
    };
  }
  const { keys, tags, versions, patterns } = rule.truncate;
  const unique = (list: readonly string[]) => [...new Set(list)];
  return {
    status: 'ok',
    keys: unique(keys),
    tags: unique(tags),
    versions: unique(versions),
    patterns: unique(patterns),
  };
}
