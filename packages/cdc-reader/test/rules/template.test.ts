import { describe, expect, it } from 'vitest';
import type { ColumnValue } from '../../src/rules/change.js';
import { compileTemplate, renderTemplate, type Template } from '../../src/rules/template.js';

function compile(text: string): Template {
  const r = compileTemplate(text);
  if (!r.ok) throw new Error(r.error);
  return r.template;
}

function compileError(text: string): string {
  const r = compileTemplate(text);
  if (r.ok) throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
  return r.error;
}

describe('compileTemplate', () => {
  it('splits literal text and placeholders', () => {
    expect(compile('user:{id}:profile').parts).toEqual([
      { kind: 'text', text: 'user:' },
      { kind: 'column', column: 'id', old: false },
      { kind: 'text', text: ':profile' },
    ]);
  });

  it('recognises {old.col}', () => {
    expect(compile('team:{old.team_id}').parts).toEqual([
      { kind: 'text', text: 'team:' },
      { kind: 'column', column: 'team_id', old: true },
    ]);
  });

  it('treats {old} as a column called old', () => {
    expect(compile('{old}').parts).toEqual([{ kind: 'column', column: 'old', old: false }]);
  });

  it('accepts adjacent placeholders and pure literals', () => {
    expect(compile('{a}{_b9}').parts).toHaveLength(2);
    expect(compile('users:all').parts).toEqual([{ kind: 'text', text: 'users:all' }]);
  });

  it('unescapes {{ and }}', () => {
    expect(compile('{{id}}').parts).toEqual([{ kind: 'text', text: '{id}' }]);
    expect(compile('{{{id}}}').parts).toEqual([
      { kind: 'text', text: '{' },
      { kind: 'column', column: 'id', old: false },
      { kind: 'text', text: '}' },
    ]);
  });

  it.each([
    ['', /empty template/],
    ['user:{', /unclosed "\{" at character 6/],
    ['user:{id', /unclosed "\{" at character 6/],
    ['user:}', /unmatched "\}" at character 6/],
    ['user:{id}}', /unmatched "\}" at character 10/],
    ['user:{}', /empty placeholder "\{\}" at character 6/],
    ['{old.}', /invalid placeholder "\{old\.\}"/],
    ['{new.id}', /invalid placeholder "\{new\.id\}"/],
    ['{ id }', /invalid placeholder "\{ id \}"/],
    ['{1id}', /invalid placeholder "\{1id\}"/],
    ['{a-b}', /invalid placeholder "\{a-b\}"/],
    ['{a{b}', /invalid placeholder "\{a\{b\}"/],
  ])('rejects %j', (text, message) => {
    const error = compileError(text);
    expect(error).toMatch(message);
    expect(error).toContain('expected literal text with {column} or {old.column} placeholders');
  });
});

describe('renderTemplate', () => {
  const row: Record<string, ColumnValue> = { id: '42', team: null, name: 'a{b}' };
  const lookup = (column: string) =>
    column in row ? { ok: true as const, value: row[column] ?? null } : { ok: false as const, error: `no ${column}` };

  it('substitutes values verbatim, including braces inside values', () => {
    expect(renderTemplate(compile('user:{id}:{name}:{{x}}'), lookup)).toEqual({ ok: true, value: 'user:42:a{b}:{x}' });
  });

  it('yields null when a placeholder is NULL', () => {
    expect(renderTemplate(compile('team:{team}:{id}'), lookup)).toEqual({ ok: true, value: null });
  });

  it('reports a missing column even when another placeholder is NULL', () => {
    expect(renderTemplate(compile('{team}:{nope}'), lookup)).toEqual({ ok: false, error: 'no nope' });
  });

  it('renders empty strings (not NULL) as empty', () => {
    expect(renderTemplate(compile('x:{e}'), () => ({ ok: true, value: '' }))).toEqual({ ok: true, value: 'x:' });
  });
});
