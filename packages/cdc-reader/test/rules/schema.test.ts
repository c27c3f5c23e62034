import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRulesError, loadKeyRules, parseKeyRules } from '../../src/rules/index.js';
import { rejection, withTable } from './rules-fixtures.js';

const SPEC_EXAMPLE = `
version: 1
tables:
  public.users:
    keys: ["user:{id}", "user:{id}:profile"]
    tags: ["team:{team_id}:members", "team:{old.team_id}:members"]
    versions: ["ver:user:{id}"]
    when_columns: [name, avatar_url, team_id]   # optional
    truncate:
      tags: ["users:all"]
      patterns: ["user:*"]
      keys: []
      versions: []
  app.orders:
    versions: ["ver:orders:{customer_id}"]
    recovery:
      patterns: ["orders:*"]
`;

const withUsers = (body: string) => withTable('public.users', body);

describe('parseKeyRules: valid files', () => {
  it('parses the spec example', () => {
    const rules = parseKeyRules(SPEC_EXAMPLE, 'rules.yaml');
    expect(rules.source).toBe('rules.yaml');
    expect(rules.version).toBe(1);
    expect([...rules.tables.keys()]).toEqual(['public.users', 'app.orders']);
    const users = rules.tables.get('public.users');
    expect(users?.keys.map((t) => t.source)).toEqual(['user:{id}', 'user:{id}:profile']);
    expect(users?.tags.map((t) => t.source)).toEqual(['team:{team_id}:members', 'team:{old.team_id}:members']);
    expect(users?.versions.map((t) => t.source)).toEqual(['ver:user:{id}']);
    expect(users?.whenColumns).toEqual(['name', 'avatar_url', 'team_id']);
    expect(users?.truncate).toEqual({ keys: [], tags: ['users:all'], versions: [], patterns: ['user:*'] });
  });

  it('defaults missing lists to empty and optional parts to undefined', () => {
    const orders = parseKeyRules(SPEC_EXAMPLE, 'rules.yaml').tables.get('app.orders');
    expect(orders?.keys).toEqual([]);
    expect(orders?.tags).toEqual([]);
    expect(orders?.whenColumns).toBeUndefined();
    expect(orders?.truncate).toBeUndefined();
  });

  it('unescapes braces in truncate literals', () => {
    const rules = parseKeyRules(
      withUsers('keys: ["u:{id}"]\ntruncate:\n  keys: ["{{all}}"]\nrecovery:\n  patterns: ["u:*"]'),
      'r.yaml',
    );
    expect(rules.tables.get('public.users')?.truncate?.keys).toEqual(['{all}']);
  });

  it('accepts block-style lists, comments and anchors', () => {
    const rules = parseKeyRules(
      `version: 1
tables:
  public.a:
    keys: &k
      - "a:{id}"   # comment
    recovery: &r
      patterns: ["a:*"]
  public.b:
    keys: *k
    recovery: *r
`,
      'r.yaml',
    );
    expect(rules.tables.get('public.b')?.keys.map((t) => t.source)).toEqual(['a:{id}']);
  });
});

describe('parseKeyRules: invalid files', () => {
  it.each([
    // [description, yaml, path, message fragment, line]
    ['empty file', '', '', 'expected a mapping with version and tables, got nothing', undefined],
    ['root is a list', '- a\n', '', 'expected a mapping with version and tables, got a list', 1],
    [
      'missing version',
      'tables:\n  public.u:\n    keys: ["u:{id}"]\n',
      'version',
      'expected 1 (the only supported version), got nothing',
      1,
    ],
    [
      'wrong version',
      'version: 2\ntables: {}\n',
      'version',
      'expected 1 (the only supported version), got number 2',
      1,
    ],
    ['version as string', 'version: "1"\ntables: {}\n', 'version', 'got string "1"', 1],
    [
      'unknown root field',
      'version: 1\ntable: {}\n',
      'table',
      'unknown field "table"; expected one of version, tables',
      2,
    ],
    [
      'missing tables',
      'version: 1\n',
      'tables',
      'expected a mapping of schema-qualified table names to rules, got nothing',
      1,
    ],
    ['tables is a list', 'version: 1\ntables: []\n', 'tables', 'got a list', 2],
    ['no tables', 'version: 1\ntables: {}\n', 'tables', 'expected at least one table', 2],
  ])('%s', (_what, text, path, message, line) => {
    const err = rejection(text);
    expect(err.path).toBe(path);
    expect(err.source).toBe('rules.yaml');
    expect(err.line).toBe(line);
    expect(err.message).toContain(message);
    expect(err.message).toContain(path);
  });

  it.each([
    [
      'unqualified table name',
      'version: 1\ntables:\n  users:\n    keys: ["u:{id}"]\n',
      'tables["users"]',
      'expected a schema-qualified table name like "public.users", got "users"',
      4,
    ],
    [
      'three-part table name',
      'version: 1\ntables:\n  db.public.users:\n    keys: ["u:{id}"]\n',
      'tables["db.public.users"]',
      'schema-qualified',
      4,
    ],
    [
      'rule is not a mapping',
      'version: 1\ntables:\n  public.users: ["u:{id}"]\n',
      'tables["public.users"]',
      'expected a mapping with keys, tags, versions, when_columns, truncate, got a list',
      3,
    ],
    ['rule is empty', 'version: 1\ntables:\n  public.users:\n', 'tables["public.users"]', 'got nothing', 3],
  ])('%s', (_what, text, path, message, line) => {
    const err = rejection(text);
    expect(err.path).toBe(path);
    expect(err.line).toBe(line);
    expect(err.message).toBe(`rules.yaml:${line}: ${path}: ${err.detail}`);
    expect(err.detail).toContain(message);
  });

  it.each([
    [
      'unknown table field',
      'keys: ["u:{id}"]\nkyes: ["x"]',
      'tables["public.users"].kyes',
      'unknown field "kyes"; expected one of keys, tags, versions, when_columns, truncate',
    ],
    [
      'unknown field with odd name',
      'keys: ["u:{id}"]\n"when-columns": [a]',
      'tables["public.users"]["when-columns"]',
      'unknown field "when-columns"',
    ],
    [
      'no templates at all',
      'when_columns: [name]',
      'tables["public.users"]',
      'expected at least one template in keys, tags or versions',
    ],
    [
      'all lists empty',
      'keys: []\ntags: []\nversions: []',
      'tables["public.users"]',
      'expected at least one template in keys, tags or versions',
    ],
    [
      'keys is a string',
      'keys: "user:{id}"',
      'tables["public.users"].keys',
      'expected a list of templates, got string "user:{id}"',
    ],
    ['keys is null', 'keys:', 'tables["public.users"].keys', 'expected a list of templates, got nothing'],
    [
      'template is a number',
      'keys: ["u:{id}", 7]',
      'tables["public.users"].keys[1]',
      'expected a non-empty string (templates), got number 7',
    ],
    [
      'template is empty',
      'tags: [""]',
      'tables["public.users"].tags[0]',
      'expected a non-empty string (templates), got string ""',
    ],
    [
      'unclosed brace',
      'keys: ["u:{id}", "user:{"]',
      'tables["public.users"].keys[1]',
      'invalid template "user:{": unclosed "{" at character 6; expected literal text with {column} or {old.column} placeholders ({{ and }} for literal braces)',
    ],
    ['stray closing brace', 'versions: ["v:}"]', 'tables["public.users"].versions[0]', 'unmatched "}"'],
    ['empty placeholder', 'tags: ["t:{}"]', 'tables["public.users"].tags[0]', 'empty placeholder "{}"'],
    ['bad column name', 'keys: ["u:{user-id}"]', 'tables["public.users"].keys[0]', 'invalid placeholder "{user-id}"'],
    [
      'when_columns not a list',
      'keys: ["u:{id}"]\nrecovery: {patterns: ["u:*"]}\nwhen_columns: name',
      'tables["public.users"].when_columns',
      'expected a list of column names, got string "name"',
    ],
    [
      'when_columns empty',
      'keys: ["u:{id}"]\nrecovery: {patterns: ["u:*"]}\nwhen_columns: []',
      'tables["public.users"].when_columns',
      'expected at least one column name',
    ],
    [
      'when_columns bad name',
      'keys: ["u:{id}"]\nrecovery: {patterns: ["u:*"]}\nwhen_columns: [name, "avatar url"]',
      'tables["public.users"].when_columns[1]',
      'invalid column name "avatar url"',
    ],
    [
      'when_columns not strings',
      'keys: ["u:{id}"]\nrecovery: {patterns: ["u:*"]}\nwhen_columns: [1]',
      'tables["public.users"].when_columns[0]',
      'expected a non-empty string (column names), got number 1',
    ],
    [
      'truncate null',
      'keys: ["u:{id}"]\ntruncate:',
      'tables["public.users"].truncate',
      'expected a mapping with keys, tags, versions and/or patterns, got nothing',
    ],
    [
      'truncate empty',
      'keys: ["u:{id}"]\ntruncate: {keys: []}',
      'tables["public.users"].truncate',
      'expected at least one entry in keys, tags, versions or patterns',
    ],
    [
      'truncate unknown field',
      'keys: ["u:{id}"]\ntruncate: {pattern: ["u:*"]}',
      'tables["public.users"].truncate.pattern',
      'unknown field "pattern"; expected one of keys, tags, versions, patterns',
    ],
    [
      'truncate placeholder',
      'keys: ["u:{id}"]\ntruncate: {keys: ["ok", "u:{id}"]}',
      'tables["public.users"].truncate.keys[1]',
      '"u:{id}" has a placeholder, but a TRUNCATE has no row to fill it from',
    ],
    [
      'truncate bad template',
      'keys: ["u:{id}"]\ntruncate: {tags: ["a}"]}',
      'tables["public.users"].truncate.tags[0]',
      'invalid template "a}"',
    ],
    [
      'truncate pattern matching everything',
      'keys: ["u:{id}"]\ntruncate: {patterns: ["*"]}',
      'tables["public.users"].truncate.patterns[0]',
      'pattern "*" would match keys of every table; expected a literal prefix',
    ],
    [
      'truncate pattern starting with a class',
      'keys: ["u:{id}"]\ntruncate: {patterns: ["user:*", "[a-z]*"]}',
      'tables["public.users"].truncate.patterns[1]',
      'would match keys of every table',
    ],
  ])('%s', (_what, body, path, message) => {
    const err = rejection(withUsers(body));
    expect(err).toBeInstanceOf(KeyRulesError);
    expect(err.name).toBe('KeyRulesError');
    expect(err.path).toBe(path);
    expect(err.detail).toContain(message);
    expect(err.message).toContain(`rules.yaml:`);
    expect(err.message).toContain(`${path}: `);
  });

  it('reports the line of the offending entry', () => {
    const err = rejection(withUsers('keys:\n  - "u:{id}"\n  - "u:{"'));
    expect(err.path).toBe('tables["public.users"].keys[1]');
    expect(err.line).toBe(6);
    expect(err.message.startsWith('rules.yaml:6: tables["public.users"].keys[1]: invalid template')).toBe(true);
  });

  it('reports the first problem in document order', () => {
    const err = rejection(withUsers('keys: ["{"]\ntags: ["}"]'));
    expect(err.path).toBe('tables["public.users"].keys[0]');
  });
});

describe('parseKeyRules: YAML syntax', () => {
  it('reports syntax errors with line and column', () => {
    const err = rejection('version: 1\ntables:\n  public.users:\n    keys: ["u:{id}"\n  bad: [\n');
    expect(err.path).toBe('');
    expect(err.line).toBeTypeOf('number');
    expect(err.message).toMatch(/^rules\.yaml:\d+: invalid YAML: .*at line \d+, column \d+/);
  });

  it('rejects duplicate keys with their line', () => {
    const err = rejection(
      'version: 1\ntables:\n  public.users:\n    keys: ["a:{id}"]\n  public.users:\n    keys: ["b:{id}"]\n',
    );
    expect(err.line).toBe(5);
    expect(err.detail).toMatch(/invalid YAML: Map keys must be unique/);
  });

  it('rejects bad indentation (tab)', () => {
    const err = rejection('version: 1\ntables:\n\tpublic.users: {}\n');
    expect(err.line).toBe(3);
    expect(err.detail).toMatch(/^invalid YAML:/);
  });

  it('rejects multiple documents', () => {
    const err = rejection('version: 1\n---\nversion: 1\n');
    expect(err.detail).toBe('invalid YAML: expected a single YAML document (found "---")');
    expect(err.line).toBe(2);
  });

  it('rejects unknown tags instead of guessing', () => {
    const err = rejection(withUsers('keys: [!custom "u:{id}"]'));
    expect(err.detail).toMatch(/^invalid YAML:.*custom/s);
  });
});

describe('loadKeyRules', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'key-rules-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates a file, naming it as the source', async () => {
    const path = join(dir, 'rules.yaml');
    await writeFile(path, SPEC_EXAMPLE);
    const rules = await loadKeyRules(path);
    expect(rules.source).toBe(path);
    expect(rules.tables.size).toBe(2);
  });

  it('names the path of a missing file', async () => {
    const path = join(dir, 'nope.yaml');
    const err = await loadKeyRules(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyRulesError);
    expect((err as KeyRulesError).message).toBe(`${path}: rules file not found: ${path}`);
  });

  it('names the path of an unreadable file', async () => {
    const err = await loadKeyRules(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyRulesError);
    expect((err as KeyRulesError).detail).toContain(`cannot read rules file ${dir}`);
  });

  it('names the file in validation errors', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'version: 1\ntables:\n  users:\n    keys: ["u:{id}"]\n');
    const err = await loadKeyRules(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyRulesError);
    expect((err as KeyRulesError).message).toMatch(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: tables\\["users"\\]: `),
    );
  });
});
