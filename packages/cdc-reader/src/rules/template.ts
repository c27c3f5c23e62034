/**
 * Key templates: literal text with `{col}` / `{old.col}` placeholders, `{{` and `}}` for
 * literal braces. Compiled once when the rules file is loaded so that rendering a change
 * is a plain walk over pre-split parts and can never hit a syntax problem at run time.
 */
import type { ColumnValue } from './change.js';

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'column'; readonly column: string; readonly old: boolean };

export interface Template {
  /** As written in the rules file; used in error messages so operators can find the rule. */
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

export type CompileResult = { ok: true; template: Template } | { ok: false; error: string };

/** Where a placeholder's value comes from is the caller's business (see render.ts). */
export type Lookup = (column: string, old: boolean) => LookupResult;
export type LookupResult = { ok: true; value: ColumnValue } | { ok: false; error: string };

/** `value: null` = some placeholder was SQL NULL, so the template yields no key. */
export type RenderTemplateResult = { ok: true; value: string | null } | { ok: false; error: string };

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const EXPECTED = 'expected literal text with {column} or {old.column} placeholders ({{ and }} for literal braces)';

export function compileTemplate(source: string): CompileResult {
  const fail = (what: string): CompileResult => ({ ok: false, error: `${what}; ${EXPECTED}` });
  if (source === '') return fail('empty template');

  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    const ch = source.charAt(i);
    const next = source.charAt(i + 1);
    if (ch === '{' && next === '{') {
      text += '{';
      i += 2;
    } else if (ch === '}' && next === '}') {
      text += '}';
      i += 2;
    } else if (ch === '}') {
      return fail(`unmatched "}" at character ${i + 1}`);
    } else if (ch === '{') {
      const end = source.indexOf('}', i + 1);
      if (end < 0) return fail(`unclosed "{" at character ${i + 1}`);
      const inner = source.slice(i + 1, end);
      if (inner === '') return fail(`empty placeholder "{}" at character ${i + 1}`);
      const old = inner.startsWith('old.');
      const column = old ? inner.slice('old.'.length) : inner;
      if (!IDENTIFIER.test(column)) {
        return fail(
          `invalid placeholder "{${inner}}" at character ${i + 1} (column names match [A-Za-z_][A-Za-z0-9_]*)`,
        );
      }
      if (text !== '') parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'column', column, old });
      i = end + 1;
    } else {
      text += ch;
      i += 1;
    }
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return { ok: true, template: { source, parts } };
}

export function placeholders(template: Template): { column: string; old: boolean }[] {
  return template.parts.flatMap((p) => (p.kind === 'column' ? [{ column: p.column, old: p.old }] : []));
}

export function usesOldRow(template: Template): boolean {
  return template.parts.some((p) => p.kind === 'column' && p.old);
}

/** The text of a template without placeholders (escapes resolved); undefined if it has any. */
export function literalText(template: Template): string | undefined {
  let out = '';
  for (const p of template.parts) {
    if (p.kind === 'column') return undefined;
    out += p.text;
  }
  return out;
}

export function renderTemplate(template: Template, lookup: Lookup): RenderTemplateResult {
  let out = '';
  let sawNull = false;
  for (const p of template.parts) {
    if (p.kind === 'text') {
      out += p.text;
      continue;
    }
    const r = lookup(p.column, p.old);
    // Keep resolving after a NULL: a missing column is a broken rule or decoder and must
    // reach the dead-letter queue even when another placeholder of the same row is NULL.
    if (!r.ok) return r;
    if (r.value === null) sawNull = true;
    else out += r.value;
  }
  return { ok: true, value: sawNull ? null : out };
}
