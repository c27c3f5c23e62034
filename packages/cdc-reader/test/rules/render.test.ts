import { describe, expect, it } from 'vitest';
import {
  parseKeyRules,
  type RenderResult,
  type Row,
  type RowChange,
  renderChange,
  renderTruncate,
} from '../../src/rules/index.js';

const rules = parseKeyRules(
  `
version: 1
tables:
  public.users:
    keys: ["user:{id}", "user:{id}:profile"]
    tags: ["team:{team_id}:members", "team:{old.team_id}:members"]
    versions: ["ver:user:{id}"]
    when_columns: [name, avatar_url, team_id]
    truncate:
      tags: ["users:all", "users:all"]
      patterns: ["user:*"]
  public.posts:
    keys: ["post:{id}", "post:{id}:slug:{slug}"]
    recovery:
      patterns: ["post:*"]
  public.moves:
    keys: ["m:{id}", "m:{old.id}"]
    tags: ["g:{grp}", "g:{old.grp}"]
    recovery:
      patterns: ["m:*"]
  public.only_old:
    tags: ["g:{old.grp}"]
    recovery:
      tags: ["g:all"]
  public.dups:
    keys: ["d:{a}", "d:{b}", "d:{a}"]
    tags: ["t:{a}"]
    versions: ["t:{a}"]
    recovery:
      patterns: ["d:*"]
  public.tenants:
    keys: ["acct:{tenant}:{id}"]
    recovery:
      patterns: ["acct:*"]
`,
  'rules.yaml',
);

const user = { id: '1', name: 'Ada', avatar_url: 'a.png', team_id: '7', email: 'ada@example.com' };

/** The templates that failed, as `kind[index]`. */
function failed(r: RenderResult): string[] {
  return r.status === 'partial' || r.status === 'error' ? r.failures.map((f) => `${f.kind}[${f.index}]`) : [];
}

function change(partial: Partial<RowChange> & Pick<RowChange, 'kind' | 'table'>): RowChange {
  return { keyColumns: ['id'], unchangedToast: [], ...partial };
}

describe('renderChange: tables without rules', () => {
  it('skips them', () => {
    expect(renderChange(rules, change({ kind: 'insert', table: 'public.other', newRow: { id: '1' } }))).toEqual({
      status: 'skip',
      skip: 'no-rule',
      reason: 'no key rule for table public.other',
    });
  });

  it('matches table names exactly', () => {
    expect(renderChange(rules, change({ kind: 'insert', table: 'Public.Users', newRow: user })).status).toBe('skip');
  });
});

describe('renderChange: INSERT', () => {
  it('renders {col} from the new row and skips {old.*} templates', () => {
    expect(renderChange(rules, change({ kind: 'insert', table: 'public.users', newRow: user }))).toEqual({
      status: 'ok',
      keys: ['user:1', 'user:1:profile'],
      tags: ['team:7:members'],
      versions: ['ver:user:1'],
    });
  });

  it('yields nothing (not an error) for a rule made only of {old.*} templates', () => {
    expect(
      renderChange(rules, change({ kind: 'insert', table: 'public.only_old', newRow: { id: '1', grp: 'x' } })),
    ).toEqual({
      status: 'ok',
      keys: [],
      tags: [],
      versions: [],
    });
  });

  it('renders no tag for a NULL group', () => {
    expect(
      renderChange(rules, change({ kind: 'insert', table: 'public.users', newRow: { ...user, team_id: null } })),
    ).toEqual({
      status: 'ok',
      keys: ['user:1', 'user:1:profile'],
      tags: [],
      versions: ['ver:user:1'],
    });
  });

  it('deduplicates within each operation kind, keeping first-seen order', () => {
    expect(renderChange(rules, change({ kind: 'insert', table: 'public.dups', newRow: { a: 'x', b: 'x' } }))).toEqual({
      status: 'ok',
      keys: ['d:x'],
      tags: ['t:x'],
      versions: ['t:x'],
    });
    const r = renderChange(rules, change({ kind: 'insert', table: 'public.dups', newRow: { a: 'y', b: 'x' } }));
    expect(r).toMatchObject({ status: 'ok', keys: ['d:y', 'd:x'] });
  });

  it('reports a column missing from the new row with table, rule, column and row identity, and renders the rest', () => {
    const { team_id: _omit, ...withoutTeam } = user;
    const reason =
      'cannot render tags[0] "team:{team_id}:members" for insert on public.users (row id=1): ' +
      'column "team_id" is not in the new row (does the table have this column?)';
    expect(renderChange(rules, change({ kind: 'insert', table: 'public.users', newRow: withoutTeam }))).toEqual({
      status: 'partial',
      keys: ['user:1', 'user:1:profile'],
      tags: [],
      versions: ['ver:user:1'],
      failures: [{ kind: 'tags', index: 0, template: 'team:{team_id}:members', reason }],
      reason,
    });
  });

  it('names every key column of a composite identity', () => {
    const r = renderChange(
      rules,
      change({ kind: 'insert', table: 'public.tenants', keyColumns: ['tenant', 'id'], newRow: { tenant: 'acme' } }),
    );
    expect(r).toMatchObject({
      status: 'error',
      reason:
        'cannot render keys[0] "acct:{tenant}:{id}" for insert on public.tenants (row tenant=acme, id=?): ' +
        'column "id" is not in the new row (does the table have this column?)',
    });
  });
});

describe('renderChange: UPDATE', () => {
  it('needs REPLICA IDENTITY FULL for {old.col} of a non-key column when no old row was sent', () => {
    const r = renderChange(rules, change({ kind: 'update', table: 'public.users', newRow: { ...user, team_id: '8' } }));
    expect(r).toMatchObject({
      status: 'partial',
      keys: ['user:1', 'user:1:profile'],
      tags: ['team:8:members'],
      versions: ['ver:user:1'],
      reason:
        'cannot render tags[1] "team:{old.team_id}:members" for update on public.users (row id=1): ' +
        'old value of column "team_id" is not available: pgoutput sent no old row; ' +
        'run ALTER TABLE public.users REPLICA IDENTITY FULL',
    });
  });

  it('renders both the old and the new group when a row moves (REPLICA IDENTITY FULL)', () => {
    const r = renderChange(
      rules,
      change({ kind: 'update', table: 'public.users', oldRow: user, newRow: { ...user, team_id: '8' } }),
    );
    expect(r).toEqual({
      status: 'ok',
      keys: ['user:1', 'user:1:profile'],
      tags: ['team:8:members', 'team:7:members'],
      versions: ['ver:user:1'],
    });
  });

  it('renders one tag when the group did not change', () => {
    const r = renderChange(
      rules,
      change({ kind: 'update', table: 'public.users', oldRow: user, newRow: { ...user, name: 'Bea' } }),
    );
    expect(r).toMatchObject({ status: 'ok', tags: ['team:7:members'] });
  });

  it('renders only the non-NULL side when moving out of or into a NULL group', () => {
    const into = renderChange(
      rules,
      change({ kind: 'update', table: 'public.users', oldRow: { ...user, team_id: null }, newRow: user }),
    );
    expect(into).toMatchObject({ status: 'ok', tags: ['team:7:members'] });
    const out = renderChange(
      rules,
      change({ kind: 'update', table: 'public.users', oldRow: user, newRow: { ...user, team_id: null } }),
    );
    expect(out).toMatchObject({ status: 'ok', tags: ['team:7:members'] });
  });

  it('takes {old.col} of a key column from the new row when no old row was sent (key unchanged)', () => {
    const keysOnly = parseKeyRules(
      'version: 1\ntables:\n  public.moves:\n    keys: ["m:{id}", "m:{old.id}"]\n    recovery:\n      patterns: ["m:*"]\n',
      'r.yaml',
    );
    expect(
      renderChange(keysOnly, change({ kind: 'update', table: 'public.moves', newRow: { id: '5', grp: 'a' } })),
    ).toEqual({
      status: 'ok',
      keys: ['m:5'],
      tags: [],
      versions: [],
    });
  });

  it('renders old and new key when the key changed (REPLICA IDENTITY DEFAULT sends a key-only old row)', () => {
    const keysOnly = parseKeyRules(
      'version: 1\ntables:\n  public.moves:\n    keys: ["m:{id}", "m:{old.id}"]\n    recovery:\n      patterns: ["m:*"]\n',
      'r.yaml',
    );
    expect(
      renderChange(
        keysOnly,
        change({ kind: 'update', table: 'public.moves', oldRow: { id: '5' }, newRow: { id: '6', grp: 'a' } }),
      ),
    ).toEqual({
      status: 'ok',
      keys: ['m:6', 'm:5'],
      tags: [],
      versions: [],
    });
  });

  it('needs REPLICA IDENTITY FULL for a non-key {old.col} that a key-only old row lacks', () => {
    const r = renderChange(
      rules,
      change({ kind: 'update', table: 'public.moves', oldRow: { id: '5' }, newRow: { id: '6', grp: 'a' } }),
    );
    expect(r).toMatchObject({
      status: 'partial',
      keys: ['m:6', 'm:5'],
      tags: ['g:a'],
      reason:
        'cannot render tags[1] "g:{old.grp}" for update on public.moves (row id=6): ' +
        'column "grp" is not in the old row; run ALTER TABLE public.moves REPLICA IDENTITY FULL',
    });
  });

  describe('unchanged TOASTed values', () => {
    const post = { id: '3', slug: 'hello' };

    it('is an error when no old row carries the value (never a wrong key, never "undefined")', () => {
      const r = renderChange(
        rules,
        change({ kind: 'update', table: 'public.posts', newRow: { id: '3' }, unchangedToast: ['slug'] }),
      );
      expect(r).toMatchObject({
        status: 'partial',
        keys: ['post:3'],
        reason:
          'cannot render keys[1] "post:{id}:slug:{slug}" for update on public.posts (row id=3): ' +
          'column "slug" is an unchanged TOASTed value that pgoutput did not send; ' +
          'run ALTER TABLE public.posts REPLICA IDENTITY FULL',
      });
    });

    it('takes the value from the old row when REPLICA IDENTITY FULL sent it', () => {
      const r = renderChange(
        rules,
        change({ kind: 'update', table: 'public.posts', oldRow: post, newRow: { id: '3' }, unchangedToast: ['slug'] }),
      );
      expect(r).toEqual({ status: 'ok', keys: ['post:3', 'post:3:slug:hello'], tags: [], versions: [] });
    });

    it('ignores a stale value that a buggy decoder left in the new row', () => {
      const r = renderChange(
        rules,
        change({
          kind: 'update',
          table: 'public.posts',
          oldRow: post,
          newRow: { id: '3', slug: 'WRONG' },
          unchangedToast: ['slug'],
        }),
      );
      expect(r).toMatchObject({ status: 'ok', keys: ['post:3', 'post:3:slug:hello'] });
    });

    it('is an error for a TOASTed key column without an old row, with an unknown identity', () => {
      const r = renderChange(
        rules,
        change({ kind: 'update', table: 'public.posts', newRow: { slug: 's' }, unchangedToast: ['id'] }),
      );
      expect(r.status).toBe('error');
      expect(r.status === 'error' && r.reason).toContain('(row id=?)');
      expect(r.status === 'error' && r.reason).toContain('column "id" is an unchanged TOASTed value');
    });
  });

  describe('when_columns', () => {
    const update = (oldRow: Row | undefined, newRow: Row, toast: string[] = []) =>
      renderChange(rules, change({ kind: 'update', table: 'public.users', oldRow, newRow, unchangedToast: toast }));

    it('skips an update that changed none of them', () => {
      expect(update(user, { ...user, email: 'new@example.com' })).toEqual({
        status: 'skip',
        skip: 'unwatched-columns',
        reason:
          'update of public.users changed none of when_columns [name, avatar_url, team_id] nor any template column',
      });
    });

    it('renders when one of them changed', () => {
      expect(update(user, { ...user, avatar_url: 'b.png' }).status).toBe('ok');
    });

    it('counts NULL <-> value as a change and NULL -> NULL as none', () => {
      expect(update({ ...user, name: null }, user).status).toBe('ok');
      expect(update({ ...user, name: null, email: 'x' }, { ...user, name: null }).status).toBe('skip');
    });

    it('treats everything as changed when there is no old row (conservative)', () => {
      const keysOnly = parseKeyRules(
        'version: 1\ntables:\n  public.users:\n    keys: ["user:{id}"]\n    when_columns: [name]\n    recovery:\n      patterns: ["user:*"]\n',
        'r.yaml',
      );
      const r = renderChange(keysOnly, change({ kind: 'update', table: 'public.users', newRow: user }));
      expect(r).toEqual({ status: 'ok', keys: ['user:1'], tags: [], versions: [] });
    });

    it('treats a when-column missing from the old row as changed (conservative)', () => {
      const { name: _omit, ...oldWithoutName } = user;
      expect(update(oldWithoutName, user).status).toBe('ok');
    });

    it('treats an unchanged TOASTed when-column as unchanged', () => {
      const { avatar_url: _omit, ...newWithoutAvatar } = user;
      expect(update(user, { ...newWithoutAvatar, email: 'x' }, ['avatar_url']).status).toBe('skip');
    });

    it('also watches every column the templates use, so a moved row is never skipped', () => {
      // id is not in when_columns, but user:{id} now names a different key.
      expect(update(user, { ...user, id: '2' })).toMatchObject({ status: 'ok', keys: ['user:2', 'user:2:profile'] });
    });

    it('does not apply to inserts and deletes', () => {
      expect(renderChange(rules, change({ kind: 'insert', table: 'public.users', newRow: user })).status).toBe('ok');
      expect(renderChange(rules, change({ kind: 'delete', table: 'public.users', oldRow: user })).status).toBe('ok');
    });
  });
});

describe('renderChange: DELETE', () => {
  it('renders {col} and {old.col} from the old row (REPLICA IDENTITY FULL)', () => {
    expect(renderChange(rules, change({ kind: 'delete', table: 'public.users', oldRow: user }))).toEqual({
      status: 'ok',
      keys: ['user:1', 'user:1:profile'],
      tags: ['team:7:members'],
      versions: ['ver:user:1'],
    });
  });

  it('renders no tag for a NULL group', () => {
    expect(
      renderChange(rules, change({ kind: 'delete', table: 'public.users', oldRow: { ...user, team_id: null } })),
    ).toMatchObject({
      status: 'ok',
      tags: [],
    });
  });

  it('renders key-only rules from a key-only old row (REPLICA IDENTITY DEFAULT)', () => {
    expect(renderChange(rules, change({ kind: 'delete', table: 'public.posts', oldRow: { id: '3' } }))).toMatchObject({
      status: 'partial',
      keys: ['post:3'],
    });
    const keysOnly = parseKeyRules(
      'version: 1\ntables:\n  public.posts:\n    keys: ["post:{id}", "p:{old.id}"]\n    recovery:\n      patterns: ["post:*", "p:*"]\n',
      'r.yaml',
    );
    expect(renderChange(keysOnly, change({ kind: 'delete', table: 'public.posts', oldRow: { id: '3' } }))).toEqual({
      status: 'ok',
      keys: ['post:3', 'p:3'],
      tags: [],
      versions: [],
    });
  });

  it('needs REPLICA IDENTITY FULL for non-key columns missing from a key-only old row, and renders the key columns', () => {
    const r = renderChange(rules, change({ kind: 'delete', table: 'public.users', oldRow: { id: '1' } }));
    expect(r).toMatchObject({
      status: 'partial',
      keys: ['user:1', 'user:1:profile'],
      tags: [],
      versions: ['ver:user:1'],
      reason:
        'cannot render tags[0] "team:{team_id}:members" for delete on public.users (row id=1): ' +
        'column "team_id" is not in the old row; run ALTER TABLE public.users REPLICA IDENTITY FULL | ' +
        'cannot render tags[1] "team:{old.team_id}:members" for delete on public.users (row id=1): ' +
        'column "team_id" is not in the old row; run ALTER TABLE public.users REPLICA IDENTITY FULL',
    });
    expect(failed(r)).toEqual(['tags[0]', 'tags[1]']);
  });

  it('is an error, with an unknown identity, when no old row was sent (REPLICA IDENTITY NOTHING)', () => {
    const r = renderChange(rules, change({ kind: 'delete', table: 'public.posts', keyColumns: [] }));
    expect(r).toMatchObject({ status: 'error' });
    expect(r.status === 'error' && r.failures[0]?.reason).toBe(
      'cannot render keys[0] "post:{id}" for delete on public.posts (row unknown (table has REPLICA IDENTITY NOTHING)): ' +
        'old value of column "id" is not available: pgoutput sent no old row; run ALTER TABLE public.posts REPLICA IDENTITY FULL',
    );
    expect(failed(r)).toEqual(['keys[0]', 'keys[1]']);
  });

  it('ignores the new row even if one is present', () => {
    const r = renderChange(
      rules,
      change({ kind: 'delete', table: 'public.posts', oldRow: { id: '3', slug: 's' }, newRow: { id: '9', slug: 'x' } }),
    );
    expect(r).toMatchObject({ status: 'ok', keys: ['post:3', 'post:3:slug:s'] });
  });
});

describe('renderChange: robustness', () => {
  it('never throws and never renders "undefined", whatever is missing', () => {
    const rows: (Row | undefined)[] = [undefined, {}, { id: '1' }, user, { ...user, team_id: null }];
    const toasts = [[], ['team_id'], ['id', 'name']];
    for (const kind of ['insert', 'update', 'delete'] as const) {
      for (const oldRow of rows) {
        for (const newRow of rows) {
          for (const unchangedToast of toasts) {
            for (const keyColumns of [[], ['id']]) {
              const r = renderChange(rules, {
                kind,
                table: 'public.users',
                keyColumns,
                oldRow,
                newRow,
                unchangedToast,
              });
              expect(['ok', 'partial', 'skip', 'error']).toContain(r.status);
              if (r.status === 'ok' || r.status === 'partial')
                expect([...r.keys, ...r.tags, ...r.versions].join(' ')).not.toMatch(/undefined|null/);
              if (r.status !== 'ok') expect(r.reason.length).toBeGreaterThan(0);
            }
          }
        }
      }
    }
  });
});

describe('renderTruncate', () => {
  it('returns the truncate rule, deduplicated', () => {
    expect(renderTruncate(rules, 'public.users')).toEqual({
      status: 'ok',
      keys: [],
      tags: ['users:all'],
      versions: [],
      patterns: ['user:*'],
    });
  });

  it('is an error, with the fix, when the table has a rule but no truncate rule', () => {
    expect(renderTruncate(rules, 'public.posts')).toEqual({
      status: 'error',
      reason: 'no truncate rule for table public.posts; add tables["public.posts"].truncate',
    });
  });

  it('skips tables without any rule', () => {
    expect(renderTruncate(rules, 'public.other')).toEqual({
      status: 'skip',
      skip: 'no-rule',
      reason: 'no key rule for table public.other',
    });
  });
});
