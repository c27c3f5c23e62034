/**
 * Parse and validate a key rules file. Everything is checked here, once, at start-up: a
 * mistake found later would mean either a crash loop on the hot path or stale caches.
 */
import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import { KeyRulesError } from './errors.js';
import { uncoveredKey } from './recovery-coverage.js';
import { compileTemplate, IDENTIFIER, literalText, type Template } from './template.js';

export const OPERATION_KINDS = ['keys', 'tags', 'versions'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export interface TableRule {
  /** Schema-qualified, as in the file: "public.users". */
  readonly table: string;
  readonly keys: readonly Template[];
  readonly tags: readonly Template[];
  readonly versions: readonly Template[];
  /** Undefined: every UPDATE invalidates. */
  readonly whenColumns?: readonly string[];
  /** Undefined: a TRUNCATE of this table is an error (see renderTruncate). */
  readonly truncate?: TruncateRule;
  /**
   * What a resync drops for this table when the region lost continuity: the file's
   * `recovery`, else its `truncate` rule. Always set: a table without one is refused at load.
   */
  readonly recovery: TruncateRule;
}

/** Literal strings: a TRUNCATE has no row to fill placeholders from. */
export interface TruncateRule {
  readonly keys: readonly string[];
  readonly tags: readonly string[];
  readonly versions: readonly string[];
  /** Redis glob patterns; each has a literal prefix (see PATTERN_GUARD). */
  readonly patterns: readonly string[];
}

export interface KeyRules {
  /** File name the rules came from, for log lines. */
  readonly source: string;
  readonly version: 1;
  readonly tables: ReadonlyMap<string, TableRule>;
}

// pgoutput reports namespace and relation name separately and the reader joins them with a
// dot; an unqualified name here could never match, so it is rejected rather than ignored.
const TABLE_NAME = /^[^.\s"]+\.[^.\s"]+$/;

const ROOT_FIELDS = ['version', 'tables'];
const TABLE_FIELDS = ['keys', 'tags', 'versions', 'when_columns', 'truncate', 'recovery'];
const TRUNCATE_FIELDS = ['keys', 'tags', 'versions', 'patterns'];

/** A position in the document: the operator-facing path plus the raw keys to find its line. */
class Loc {
  constructor(
    readonly text: string,
    readonly keys: readonly (string | number)[],
  ) {}

  field(name: string): Loc {
    const step = IDENTIFIER.test(name) ? (this.text ? `.${name}` : name) : `[${JSON.stringify(name)}]`;
    return new Loc(this.text + step, [...this.keys, name]);
  }

  /** Map entries whose keys are data (table names) are always bracketed, even if they look like identifiers. */
  entry(name: string): Loc {
    return new Loc(`${this.text}[${JSON.stringify(name)}]`, [...this.keys, name]);
  }

  index(i: number): Loc {
    return new Loc(`${this.text}[${i}]`, [...this.keys, i]);
  }
}

const ROOT = new Loc('', []);

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (isMapping(value)) return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

class Validator {
  constructor(
    private readonly source: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  fail(at: Loc, detail: string): never {
    throw new KeyRulesError(this.source, at.text, detail, this.lineOf(at.keys));
  }

  /** Line of the node at `keys`, or of its nearest existing ancestor (for missing fields). */
  private lineOf(keys: readonly (string | number)[]): number | undefined {
    for (let n = keys.length; n >= 0; n--) {
      const node: unknown = this.doc.getIn(keys.slice(0, n), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  mapping(value: unknown, at: Loc, allowed: readonly string[], what: string): Mapping {
    if (!isMapping(value)) this.fail(at, `expected ${what}, got ${describe(value)}`);
    for (const name of Object.keys(value)) {
      if (!allowed.includes(name)) {
        this.fail(at.field(name), `unknown field ${JSON.stringify(name)}; expected one of ${allowed.join(', ')}`);
      }
    }
    return value;
  }

  strings(value: unknown, at: Loc, what: string): string[] {
    if (!Array.isArray(value)) this.fail(at, `expected a list of ${what}, got ${describe(value)}`);
    return value.map((item: unknown, i) => {
      if (typeof item !== 'string' || item === '') {
        this.fail(at.index(i), `expected a non-empty string (${what}), got ${describe(item)}`);
      }
      return item;
    });
  }

  templates(value: unknown, at: Loc): Template[] {
    if (value === undefined) return [];
    return this.strings(value, at, 'templates').map((text, i) => {
      const compiled = compileTemplate(text);
      if (!compiled.ok) this.fail(at.index(i), `invalid template ${JSON.stringify(text)}: ${compiled.error}`);
      return compiled.template;
    });
  }

  literals(value: unknown, at: Loc): string[] {
    if (value === undefined) return [];
    return this.templates(value, at).map((t, i) => {
      const text = literalText(t);
      if (text === undefined) {
        this.fail(
          at.index(i),
          `${JSON.stringify(t.source)} has a placeholder, but a TRUNCATE has no row to fill it from; ` +
            'expected literal text ({{ and }} for literal braces)',
        );
      }
      return text;
    });
  }

  whenColumns(value: unknown, at: Loc): string[] | undefined {
    if (value === undefined) return undefined;
    const columns = this.strings(value, at, 'column names');
    // An empty list would skip every UPDATE of the table: almost certainly a mistake.
    if (columns.length === 0)
      this.fail(at, 'expected at least one column name (omit when_columns to react to every UPDATE)');
    columns.forEach((c, i) => {
      if (!IDENTIFIER.test(c))
        this.fail(at.index(i), `invalid column name ${JSON.stringify(c)}; expected [A-Za-z_][A-Za-z0-9_]*`);
    });
    return columns;
  }

  /** `truncate` and `recovery` share one shape: literal keys, tags, versions and prefixed patterns. */
  truncate(value: unknown, at: Loc): TruncateRule | undefined {
    if (value === undefined) return undefined;
    const raw = this.mapping(value, at, TRUNCATE_FIELDS, 'a mapping with keys, tags, versions and/or patterns');
    const rule: TruncateRule = {
      keys: this.literals(raw.keys, at.field('keys')),
      tags: this.literals(raw.tags, at.field('tags')),
      versions: this.literals(raw.versions, at.field('versions')),
      patterns: this.literals(raw.patterns, at.field('patterns')),
    };
    rule.patterns.forEach((p, i) => {
      // A pattern that starts with a wildcard scans and deletes across every table's keys
      // in every region; a TRUNCATE or a resync of one table should never do that.
      if (/^[*?[\\]/.test(p)) {
        this.fail(
          at.field('patterns').index(i),
          `pattern ${JSON.stringify(p)} would match keys of every table; expected a literal prefix, like "user:*"`,
        );
      }
    });
    if (rule.keys.length + rule.tags.length + rule.versions.length + rule.patterns.length === 0) {
      this.fail(at, 'expected at least one entry in keys, tags, versions or patterns');
    }
    return rule;
  }

  table(name: string, value: unknown, at: Loc): TableRule {
    if (!TABLE_NAME.test(name)) {
      this.fail(at, `expected a schema-qualified table name like "public.users", got ${JSON.stringify(name)}`);
    }
    const raw = this.mapping(value, at, TABLE_FIELDS, 'a mapping with keys, tags, versions, when_columns, truncate');
    const keys = this.templates(raw.keys, at.field('keys'));
    const tags = this.templates(raw.tags, at.field('tags'));
    const versions = this.templates(raw.versions, at.field('versions'));
    if (keys.length + tags.length + versions.length === 0) {
      this.fail(at, 'expected at least one template in keys, tags or versions');
    }
    const truncate = this.truncate(raw.truncate, at.field('truncate'));
    const recovery = this.truncate(raw.recovery, at.field('recovery')) ?? truncate;
    if (!recovery) {
      this.fail(
        at,
        'no recovery action: add recovery (or truncate) with patterns, tags, keys or versions that reach every ' +
          'cached entry of the table, so a resync after a lost slot can drop what may be stale',
      );
    }
    const uncovered = uncoveredKey(keys, recovery);
    if (uncovered) {
      this.fail(
        at.field(raw.recovery === undefined ? 'truncate' : 'recovery'),
        `the recovery action does not reach key ${JSON.stringify(uncovered.source)}: add a pattern like ` +
          `${JSON.stringify(`${uncovered.prefix}*`)} to ${raw.recovery === undefined ? 'truncate' : 'recovery'}.patterns ` +
          '(or a versions entry every fill of the table reads)',
      );
    }
    return {
      table: name,
      keys,
      tags,
      versions,
      whenColumns: this.whenColumns(raw.when_columns, at.field('when_columns')),
      truncate,
      recovery,
    };
  }

  rules(value: unknown): KeyRules {
    const root = this.mapping(value, ROOT, ROOT_FIELDS, 'a mapping with version and tables');
    if (root.version !== 1) {
      this.fail(ROOT.field('version'), `expected 1 (the only supported version), got ${describe(root.version)}`);
    }
    const tablesAt = ROOT.field('tables');
    if (!isMapping(root.tables)) {
      this.fail(tablesAt, `expected a mapping of schema-qualified table names to rules, got ${describe(root.tables)}`);
    }
    const tables = new Map<string, TableRule>();
    for (const [name, rule] of Object.entries(root.tables)) {
      tables.set(name, this.table(name, rule, tablesAt.entry(name)));
    }
    // No tables means the reader would run and invalidate nothing: refuse instead.
    if (tables.size === 0) this.fail(tablesAt, 'expected at least one table');
    return { source: this.source, version: 1, tables };
  }
}

/** Parse and validate a rules file. Throws KeyRulesError naming `source`, the path and the line. */
export function parseKeyRules(text: string, source: string): KeyRules {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  // Warnings (e.g. unknown tags) are errors too: the file would not mean what it says.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    // The library's own advice for this one ("use parseAllDocuments") would mislead an operator.
    const message =
      problem.code === 'MULTIPLE_DOCS' ? 'expected a single YAML document (found "---")' : problem.message;
    throw new KeyRulesError(source, '', `invalid YAML: ${message}`, problem.linePos?.[0].line);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new KeyRulesError(source, '', `invalid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new Validator(source, doc, lines).rules(value);
}
