import { describe, expect, it } from 'vitest';
import { KeyRulesError, parseKeyRules, renderRecovery } from '../../src/rules/index.js';
import { rejection, withTable } from './rules-fixtures.js';

const withX = (body: string) => withTable('public.x', body);

const recoveryOf = (body: string) => parseKeyRules(withX(body), 'rules.yaml').tables.get('public.x')?.recovery;

describe('parseKeyRules: recovery action', () => {
  it('defaults to the truncate rule', () => {
    const rule = parseKeyRules(
      withX('keys: ["user:{id}"]\ntruncate:\n  patterns: ["user:*"]\n  tags: ["users:all"]'),
      'rules.yaml',
    ).tables.get('public.x');
    expect(rule?.recovery).toEqual({ keys: [], tags: ['users:all'], versions: [], patterns: ['user:*'] });
    expect(rule?.recovery).toEqual(rule?.truncate);
  });

  it('takes an explicit recovery over the truncate rule', () => {
    const rule = parseKeyRules(
      withX('keys: ["user:{id}"]\ntruncate:\n  patterns: ["user:*"]\nrecovery:\n  versions: ["ver:users"]'),
      'rules.yaml',
    ).tables.get('public.x');
    expect(rule?.recovery).toEqual({ keys: [], tags: [], versions: ['ver:users'], patterns: [] });
    expect(rule?.truncate).toEqual({ keys: [], tags: [], versions: [], patterns: ['user:*'] });
  });

  it('is refused when the table has neither recovery nor truncate', () => {
    const err = rejection(withX('keys: ["user:{id}"]'));
    expect(err).toBeInstanceOf(KeyRulesError);
    expect(err.path).toBe('tables["public.x"]');
    expect(err.line).toBe(4);
    expect(err.detail).toContain('no recovery action');
    expect(err.message).toBe(`rules.yaml:4: tables["public.x"]: ${err.detail}`);
  });

  it('is refused for a table with only tags or versions, too', () => {
    expect(rejection(withX('tags: ["t:{id}"]')).detail).toContain('no recovery action');
    expect(rejection(withX('versions: ["ver:{id}"]')).detail).toContain('no recovery action');
  });

  it('names a key template the recovery does not reach, with the pattern that would', () => {
    const err = rejection(withX('keys: ["user:{id}", "account:{id}"]\nrecovery:\n  patterns: ["user:*"]'));
    expect(err.path).toBe('tables["public.x"].recovery');
    expect(err.detail).toContain('"account:{id}"');
    expect(err.detail).toContain('"account:*"');
    expect(err.detail).toContain('recovery.patterns');
    expect(err.detail).not.toContain('"user:{id}"');
  });

  it('points at truncate when the truncate rule is the recovery', () => {
    const err = rejection(withX('keys: ["user:{id}", "account:{id}"]\ntruncate:\n  patterns: ["user:*"]'));
    expect(err.path).toBe('tables["public.x"].truncate');
    expect(err.detail).toContain('"account:{id}"');
    expect(err.detail).toContain('"account:*"');
    expect(err.detail).toContain('truncate.patterns');
  });

  it('points at recovery when both are given and recovery falls short', () => {
    const err = rejection(
      withX(
        'keys: ["user:{id}", "account:{id}"]\ntruncate:\n  patterns: ["user:*", "account:*"]\nrecovery:\n  patterns: ["user:*"]',
      ),
    );
    expect(err.path).toBe('tables["public.x"].recovery');
    expect(err.detail).toContain('"account:{id}"');
  });

  it('accepts a recovery with a versions entry for any keys', () => {
    expect(recoveryOf('keys: ["user:{id}", "account:{id}", "{id}"]\nrecovery:\n  versions: ["ver:x"]')).toEqual({
      keys: [],
      tags: [],
      versions: ['ver:x'],
      patterns: [],
    });
  });

  it('accepts prefix patterns that reach each key, shorter or up to the first placeholder', () => {
    expect(
      recoveryOf(
        'keys: ["user:{id}", "user:email:{email}", "acct:{t}:{id}"]\nrecovery:\n  patterns: ["us*", "acct:*"]',
      ),
    ).toMatchObject({ patterns: ['us*', 'acct:*'] });
    expect(recoveryOf('keys: ["user:{id}"]\nrecovery:\n  patterns: ["user:*"]')).toMatchObject({
      patterns: ['user:*'],
    });
  });

  it('accepts the exact literal key for a key without placeholders', () => {
    expect(recoveryOf('keys: ["config", "{{cfg}}"]\nrecovery:\n  keys: ["config", "{{cfg}}"]')).toMatchObject({
      keys: ['config', '{cfg}'],
    });
  });

  it('does not take a literal key as reaching a template with placeholders', () => {
    const err = rejection(withX('keys: ["config:{id}"]\nrecovery:\n  keys: ["config:"]'));
    expect(err.path).toBe('tables["public.x"].recovery');
    expect(err.detail).toContain('"config:{id}"');
    expect(err.detail).toContain('"config:*"');
  });

  it.each([
    ['a glob inside the prefix', 'u*er:*'],
    ['a ? inside the prefix', 'us?r:*'],
    ['a class inside the prefix', 'u[s]er:*'],
    ['no trailing *', 'user:'],
    ['a pattern longer than the literal prefix', 'user:1*'],
    ['a pattern for another prefix', 'users:*'],
  ])('does not count %s as reaching the key', (_what, pattern) => {
    const err = rejection(withX(`keys: ["user:{id}"]\nrecovery:\n  patterns: [${JSON.stringify(pattern)}]`));
    expect(err.path).toBe('tables["public.x"].recovery');
    expect(err.detail).toContain('"user:{id}"');
    expect(err.detail).toContain('"user:*"');
  });

  it('reports template errors before the missing recovery', () => {
    expect(rejection(withX('keys: ["user:{"]')).path).toBe('tables["public.x"].keys[0]');
  });

  it('reports recovery shape errors like truncate ones', () => {
    expect(rejection(withX('keys: ["u:{id}"]\nrecovery: {patterns: ["*"]}')).path).toBe(
      'tables["public.x"].recovery.patterns[0]',
    );
    expect(rejection(withX('keys: ["u:{id}"]\nrecovery: {pattern: ["u:*"]}')).path).toBe(
      'tables["public.x"].recovery.pattern',
    );
    expect(rejection(withX('keys: ["u:{id}"]\nrecovery: {keys: []}')).detail).toContain(
      'expected at least one entry in keys, tags, versions or patterns',
    );
  });
});

describe('renderRecovery', () => {
  const rules = parseKeyRules(
    `version: 1
tables:
  public.users:
    keys: ["user:{id}", "user:email:{email}"]
    truncate:
      patterns: ["user:*"]
      tags: ["users:all"]
    recovery:
      patterns: ["user:email:*", "user:*"]
      tags: ["users:all", "teams:all"]
      keys: ["config"]
  public.emails:
    keys: ["user:email:{email}"]
    recovery:
      patterns: ["user:email:*"]
      keys: ["config", "motd"]
      versions: ["ver:users"]
  public.products:
    keys: ["product:{id}", "products:all"]
    truncate:
      patterns: ["products:*", "product:*"]
      tags: ["catalog", "users:all"]
      versions: ["ver:users", "ver:catalog"]
`,
    'rules.yaml',
  );

  it('merges every table, deduplicated, keeping only the shortest of nested patterns, sorted', () => {
    expect(renderRecovery(rules)).toEqual({
      keys: ['config', 'motd'],
      tags: ['users:all', 'teams:all', 'catalog'],
      versions: ['ver:users', 'ver:catalog'],
      patterns: ['product:*', 'products:*', 'user:*'],
    });
  });

  it('keeps a nested pattern when no shorter prefix pattern is present', () => {
    const only = parseKeyRules(
      withX('keys: ["user:email:{email}"]\nrecovery:\n  patterns: ["user:email:*"]'),
      'r.yaml',
    );
    expect(renderRecovery(only).patterns).toEqual(['user:email:*']);
  });

  it('drops a pattern under a shorter prefix even from another table', () => {
    const two = parseKeyRules(
      'version: 1\ntables:\n  public.a:\n    keys: ["user:email:{e}"]\n    recovery:\n      patterns: ["user:email:*"]\n' +
        '  public.b:\n    keys: ["user:{id}"]\n    truncate:\n      patterns: ["user:*"]\n',
      'r.yaml',
    );
    expect(renderRecovery(two)).toEqual({ keys: [], tags: [], versions: [], patterns: ['user:*'] });
  });
});
