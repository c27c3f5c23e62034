import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeyRules, type RenderResult, type RowChange, renderChange } from '../../src/rules/index.js';

// One template that cannot render used to take the whole change to the DLQ, so the keys
// that did render stayed stale too. Each template now stands alone.

const demo = parseKeyRules(
  readFileSync(path.resolve(import.meta.dirname, '../../../../deploy/key-rules.demo.yaml'), 'utf8'),
  'key-rules.demo.yaml',
);

const rules = parseKeyRules(
  `
version: 1
tables:
  public.accounts:
    keys: ["acct:{id}", "{slug}"]
    tags: ["{region}{slug}"]
    recovery:
      versions: ["ver:accounts"]
`,
  'rules.yaml',
);

const baseInsert: RowChange = { kind: 'insert', table: 'public.accounts', keyColumns: ['id'], unchangedToast: [] };

const failed = (r: RenderResult) =>
  r.status === 'partial' || r.status === 'error' ? r.failures.map((f) => `${f.kind}[${f.index}]`) : [];

describe('renderChange: what renders is kept when other templates fail', () => {
  it('moves a user between teams under REPLICA IDENTITY DEFAULT: the new row renders, {old.*} is reported', () => {
    // DEFAULT: the key did not change, so pgoutput sends no old row at all.
    const move: RowChange = {
      kind: 'update',
      table: 'public.users',
      keyColumns: ['id'],
      newRow: { id: '42', team_id: '8', name: 'Ada', email: 'ada@example.com', avatar_url: null, bio: null },
      unchangedToast: [],
    };
    const r = renderChange(demo, move);
    expect(r).toMatchObject({
      status: 'partial',
      keys: ['user:42', 'user:42:profile', 'user:email:ada@example.com'],
      tags: ['team:8:members'],
      versions: ['ver:user:42'],
    });
    expect(failed(r)).toEqual(['keys[3]', 'tags[1]']);
    expect(r.status === 'partial' && r.reason).toContain(
      'cannot render tags[1] "team:{old.team_id}:members" for update on public.users (row id=42): ' +
        'old value of column "team_id" is not available: pgoutput sent no old row; ' +
        'run ALTER TABLE public.users REPLICA IDENTITY FULL',
    );
  });

  it('reports a template that renders an empty string, and keeps the others', () => {
    const r = renderChange(rules, { ...baseInsert, newRow: { id: '1', slug: '', region: '' } });
    expect(r).toMatchObject({ status: 'partial', keys: ['acct:1'], tags: [], versions: [] });
    expect(failed(r)).toEqual(['keys[1]', 'tags[0]']);
    expect(r.status === 'partial' && r.failures[0]?.reason).toBe(
      'cannot render keys[1] "{slug}" for insert on public.accounts (row id=1): renders an empty string (every placeholder was empty)',
    );
  });

  it('still renders nothing, and reports nothing, for a NULL placeholder', () => {
    const r = renderChange(rules, { ...baseInsert, newRow: { id: '1', slug: null, region: 'eu' } });
    expect(r).toEqual({ status: 'ok', keys: ['acct:1'], tags: [], versions: [] });
  });

  it('is an error, with every failure, when nothing rendered at all', () => {
    const r = renderChange(rules, { ...baseInsert, newRow: { id: null, slug: '', region: '' } });
    expect(r.status).toBe('error');
    expect(failed(r)).toEqual(['keys[1]', 'tags[0]']);
    // "acct:" is not empty: a literal prefix makes a template render something whatever the row.
    expect(renderChange(rules, { ...baseInsert, newRow: { id: '', slug: 'x', region: '' } })).toMatchObject({
      status: 'ok',
      keys: ['acct:', 'x'],
    });
  });
});
