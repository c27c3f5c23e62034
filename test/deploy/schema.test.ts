import { readFileSync } from 'node:fs';
import path from 'node:path';
// Not part of the package's public API; the sandbox applies exactly this text.
import { DEMO_SCHEMA, PUBLICATION, REPLICATED_TABLES } from '@fabric/sandbox';
import { describe, expect, it } from 'vitest';
import { ROOT } from './compose-file.js';

/** SQL without comments, with whitespace collapsed: what PostgreSQL executes. */
function statements(sql: string): string[] {
  return sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('deploy/postgres SQL', () => {
  it('creates exactly the demo schema the sandbox creates', () => {
    const deployed = statements(read('deploy/postgres/demo-schema.sql'));
    expect(deployed.length).toBeGreaterThan(5);
    expect(deployed).toEqual(statements(DEMO_SCHEMA));
  });

  it('publishes the tables the sandbox replicates, under the same publication name', () => {
    const [create, ...rest] = statements(read('deploy/postgres/publication.sql'));
    expect(rest).toEqual([]);
    const match = /^create publication (\w+) for table (.+)$/.exec(create!);
    expect(match?.[1]).toBe(PUBLICATION);
    expect(match![2]!.split(',').map((t) => t.trim())).toEqual(REPLICATED_TABLES);
  });

  it('gives every replicated table REPLICA IDENTITY FULL, as key rules on old rows need', () => {
    const schema = statements(read('deploy/postgres/demo-schema.sql'));
    for (const table of REPLICATED_TABLES) expect(schema).toContain(`alter table ${table} replica identity full`);
  });
});
