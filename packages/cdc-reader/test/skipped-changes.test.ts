import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Relation } from '../src/pgoutput/index.js';
import { SkippedChanges } from '../src/skipped-changes.js';

const relation = (id: number, name: string): Relation => ({
  id,
  schema: 'public',
  name,
  replicaIdentity: 'd',
  columns: [],
});

describe('SkippedChanges', () => {
  it('counts every skip per table and reason, and warns once per relation a rule does not know', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'skips', help: 'h', labelNames: ['table', 'reason'], registers: [registry] });
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const skips = new SkippedChanges(counter, logger);
    const renamed = relation(16400, 'users_v2');
    for (let i = 0; i < 3; i++)
      skips.record({ relation: renamed, table: 'public.users_v2', skip: 'no-rule', reason: 'no key rule' });
    skips.record({ relation: relation(16401, 'users'), table: 'public.users', skip: 'unwatched-columns', reason: '' });

    const values = (await counter.get()).values.map((v) => [v.labels.table, v.labels.reason, v.value]);
    expect(values).toEqual([
      ['public.users_v2', 'no-rule', 3],
      ['public.users', 'unwatched-columns', 1],
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ table: 'public.users_v2', relationId: 16400 });
    expect(String(lines[0]!.msg)).toContain('add tables["public.users_v2"] to the rules');
  });
});
