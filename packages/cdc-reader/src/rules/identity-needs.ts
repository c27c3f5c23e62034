/**
 * Which templates can render from what a table's replica identity makes pgoutput log.
 * Pure, so the start-up check (replica-identity.ts) is tested without a database.
 *
 * An UPDATE or DELETE logs old values only for the identity columns unless the table has
 * REPLICA IDENTITY FULL: the primary key under DEFAULT, the chosen index's columns under
 * USING INDEX. So `{old.col}` of any other column cannot render, and neither can `{col}`
 * on a DELETE, which reads the old row; a rule that needs them leaves those entries stale
 * on every such change while the region looks healthy.
 */
import type { KeyRules, OperationKind } from './schema.js';
import { OPERATION_KINDS } from './schema.js';
import { placeholders } from './template.js';

/** pg_class.relreplident: DEFAULT, NOTHING, FULL, USING INDEX. */
export type ReplicaIdentityCode = 'd' | 'n' | 'f' | 'i';

export interface TableCatalog {
  replicaIdentity: ReplicaIdentityCode;
  /** Columns an UPDATE/DELETE logs the old value of: the primary key (d) or the identity index (i). */
  identityColumns: readonly string[];
  /** Every live column of the table. */
  columns: readonly string[];
}

export interface TemplateRef {
  table: string;
  /** Where the template is in the rules file, e.g. `tables["public.users"].keys[3]`. */
  path: string;
  template: string;
  column: string;
}

export interface OldRowNeed extends TemplateRef {
  /** `{old.col}`: every UPDATE and DELETE; `{col}`: a DELETE (and an UPDATE that left it TOASTed). */
  old: boolean;
}

export interface IdentityFindings {
  /** Placeholders naming a column the table does not have: such a template cannot render (yet). */
  missingColumns: TemplateRef[];
  /** Placeholders whose old value the table's replica identity does not log. */
  oldRowNeeds: OldRowNeed[];
}

export const IDENTITY_NAMES: Record<ReplicaIdentityCode, string> = {
  d: 'DEFAULT',
  n: 'NOTHING',
  f: 'FULL',
  i: 'USING INDEX',
};

export function templatePath(table: string, kind: OperationKind, index: number): string {
  return `tables[${JSON.stringify(table)}].${kind}[${index}]`;
}

/** Checks every table's templates against its catalog entry; a table missing from `catalog` is not checked. */
export function identityFindings(rules: KeyRules, catalog: ReadonlyMap<string, TableCatalog>): IdentityFindings {
  const findings: IdentityFindings = { missingColumns: [], oldRowNeeds: [] };
  for (const [table, rule] of rules.tables) {
    const entry = catalog.get(table);
    if (!entry) continue;
    for (const kind of OPERATION_KINDS) {
      for (const [index, template] of rule[kind].entries()) {
        const seen = new Set<string>();
        for (const p of placeholders(template)) {
          const ref = { table, path: templatePath(table, kind, index), template: template.source, column: p.column };
          const once = `${p.old}:${p.column}`;
          if (seen.has(once)) continue;
          seen.add(once);
          if (!entry.columns.includes(p.column)) findings.missingColumns.push(ref);
          else if (entry.replicaIdentity !== 'f' && !entry.identityColumns.includes(p.column))
            findings.oldRowNeeds.push({ ...ref, old: p.old });
        }
      }
    }
  }
  return findings;
}
