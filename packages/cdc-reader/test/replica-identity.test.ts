import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@fabric/runtime';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parseReaderConfig, READER_HELP } from '../src/config.js';
import { enforceReplicaIdentity, ReplicaIdentityError } from '../src/replica-identity.js';
import { identityFindings, parseKeyRules, type TableCatalog } from '../src/rules/index.js';

const demo = parseKeyRules(
  readFileSync(path.resolve(import.meta.dirname, '../../../deploy/key-rules.demo.yaml'), 'utf8'),
  'key-rules.demo.yaml',
);

const USER_COLUMNS = ['id', 'team_id', 'name', 'email', 'avatar_url', 'bio', 'updated_at'];
const full = (columns: string[]): TableCatalog => ({ replicaIdentity: 'f', identityColumns: [], columns });
const byDefault = (columns: string[], key = ['id']): TableCatalog => ({
  replicaIdentity: 'd',
  identityColumns: key,
  columns,
});
const catalog = (users: TableCatalog) =>
  new Map<string, TableCatalog>([
    ['public.users', users],
    ['public.teams', byDefault(['id', 'name'])],
    ['public.products', full(['id', 'sku', 'name', 'price_cents', 'description'])],
  ]);

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('identityFindings', () => {
  it('finds nothing under REPLICA IDENTITY FULL, and nothing for identity columns under DEFAULT', () => {
    expect(identityFindings(demo, catalog(full(USER_COLUMNS)))).toEqual({ missingColumns: [], oldRowNeeds: [] });
  });

  it('names every template reading an old value DEFAULT does not log: {old.col}, and {col} on DELETE', () => {
    const { oldRowNeeds } = identityFindings(demo, catalog(byDefault(USER_COLUMNS)));
    expect(oldRowNeeds.map((n) => [n.path, n.column, n.old])).toEqual([
      ['tables["public.users"].keys[2]', 'email', false],
      ['tables["public.users"].keys[3]', 'email', true],
      ['tables["public.users"].tags[0]', 'team_id', false],
      ['tables["public.users"].tags[1]', 'team_id', true],
    ]);
  });

  it('uses the identity index columns under USING INDEX', () => {
    const users: TableCatalog = { replicaIdentity: 'i', identityColumns: ['id', 'email'], columns: USER_COLUMNS };
    const { oldRowNeeds } = identityFindings(demo, catalog(users));
    expect(oldRowNeeds.map((n) => n.path)).toEqual([
      'tables["public.users"].tags[0]',
      'tables["public.users"].tags[1]',
    ]);
  });

  it('reports a placeholder naming a column the table does not have', () => {
    const { missingColumns } = identityFindings(demo, catalog(full(USER_COLUMNS.filter((c) => c !== 'email'))));
    expect(missingColumns.map((m) => [m.path, m.column])).toEqual([
      ['tables["public.users"].keys[2]', 'email'],
      ['tables["public.users"].keys[3]', 'email'],
    ]);
  });
});

describe('enforceReplicaIdentity', () => {
  it('refuses by default, naming table, rules and the ALTER to run', () => {
    const { logger } = capture();
    const run = () => enforceReplicaIdentity(demo, catalog(byDefault(USER_COLUMNS)), 'refuse', logger);
    expect(run).toThrow(ReplicaIdentityError);
    expect(run).toThrow(/public\.users has REPLICA IDENTITY DEFAULT \(old values logged for: id\)/);
    expect(run).toThrow(/tables\["public\.users"\]\.keys\[3\] "user:email:\{old\.email\}": \{old\.email\} needs/);
    expect(run).toThrow(/Run: ALTER TABLE public\.users REPLICA IDENTITY FULL;/);
    expect(run).toThrow(/--replica-identity warn/);
  });

  it('warns once per table under warn, and counts the gaps per table', () => {
    const { logger, lines } = capture();
    const result = enforceReplicaIdentity(demo, catalog(byDefault(USER_COLUMNS)), 'warn', logger);
    expect(Object.fromEntries(result.gapsByTable)).toEqual({
      'public.users': 4,
      'public.teams': 0,
      'public.products': 0,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ table: 'public.users', fix: 'ALTER TABLE public.users REPLICA IDENTITY FULL;' });
  });

  it('warns, whatever the policy, about a template naming a column the table does not have', () => {
    const { logger, lines } = capture();
    const users = full(USER_COLUMNS.filter((c) => c !== 'team_id'));
    enforceReplicaIdentity(demo, catalog(users), 'refuse', logger);
    expect(lines.map((l) => l.template)).toEqual(['tables["public.users"].tags[0]', 'tables["public.users"].tags[1]']);
    expect(String(lines[0]!.msg)).toContain('public.users has no column "team_id"');
  });

  it('quotes names that need quoting in the ALTER', () => {
    const rules = parseKeyRules(
      'version: 1\ntables:\n  Sales.Orders:\n    keys: ["o:{id}:{old.state}"]\n    recovery:\n      patterns: ["o:*"]\n',
      'r.yaml',
    );
    const { logger } = capture();
    const orders = new Map([['Sales.Orders', byDefault(['id', 'state'])]]);
    expect(() => enforceReplicaIdentity(rules, orders, 'refuse', logger)).toThrow(
      'Run: ALTER TABLE "Sales"."Orders" REPLICA IDENTITY FULL;',
    );
  });
});

describe('--replica-identity', () => {
  const base = ['--region', 'eu-west', '--postgres', 'postgres://h:1/db', '--kafka', 'k:9092', '--rules', 'r.yaml'];
  const parse = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    parseReaderConfig([...base, '--continuity', 'off', ...args], env)!;

  it('refuses by default; warn by flag or FABRIC_REPLICA_IDENTITY', () => {
    expect(parse([]).replicaIdentity).toBe('refuse');
    expect(parse(['--replica-identity', 'warn']).replicaIdentity).toBe('warn');
    expect(parse([], { FABRIC_REPLICA_IDENTITY: 'warn' }).replicaIdentity).toBe('warn');
  });

  it('fails at start on anything else, naming the flag, and is in --help', () => {
    expect(() => parse(['--replica-identity', 'ignore'])).toThrow(ConfigError);
    expect(() => parse(['--replica-identity', 'ignore'])).toThrow(/--replica-identity.*must be refuse or warn/);
    expect(READER_HELP).toContain('--replica-identity refuse|warn');
  });
});
