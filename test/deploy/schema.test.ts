import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseKeyRules } from '@fabric/cdc-reader';
import { HEARTBEAT_TABLE, OUTBOX_TABLE, READER_PUBLICATION } from '@fabric/contracts';
// Not part of the package's public API; the sandbox applies exactly this text.
import { DEMO_SCHEMA, FABRIC_SCHEMA, FABRIC_TABLES, PUBLICATION, REPLICATED_TABLES } from '@fabric/sandbox';
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

  it('creates exactly the fabric schema the sandbox creates', () => {
    const deployed = statements(read('deploy/postgres/fabric-schema.sql'));
    expect(deployed.length).toBeGreaterThan(3);
    expect(deployed).toEqual(statements(FABRIC_SCHEMA));
  });

  it("keeps the fabric's own tables in the fabric schema only, and everything it creates in schema fabric", () => {
    expect(statements(read('deploy/postgres/demo-schema.sql')).join('\n')).not.toMatch(/\bfabric\./);
    const created = statements(FABRIC_SCHEMA).flatMap((s) => /^create table if not exists (\S+)/.exec(s)?.[1] ?? []);
    expect(created).toEqual(FABRIC_TABLES);
    // The tables the reader treats as the fabric's own are the ones this schema creates.
    expect(FABRIC_TABLES).toEqual([HEARTBEAT_TABLE, OUTBOX_TABLE]);
    expect(REPLICATED_TABLES).toEqual(expect.arrayContaining(FABRIC_TABLES));
  });

  it('publishes the tables the sandbox replicates, under the same publication name', () => {
    const [create, ...rest] = statements(read('deploy/postgres/publication.sql'));
    expect(rest).toEqual([]);
    const match = /^create publication (\w+) for table (.+)$/.exec(create!);
    expect(match?.[1]).toBe(PUBLICATION);
    expect(match![2]!.split(',').map((t) => t.trim())).toEqual(REPLICATED_TABLES);
  });

  // The home reader would create it too; made with the schema, it is at the primary before
  // any standby is copied from it, and a standby's reader finds it there.
  it("publishes, under the readers' publication name, the tables the readers publish", () => {
    const [create, ...rest] = statements(read('deploy/postgres/reader-publication.sql'));
    expect(rest).toEqual([]);
    const match = /^create publication (\w+) for table (.+)$/.exec(create!);
    expect(match?.[1]).toBe(READER_PUBLICATION);
    const rules = parseKeyRules(read('deploy/key-rules.demo.yaml'), 'deploy/key-rules.demo.yaml');
    // What the reader passes to ensureSlotAndPublication (packages/cdc-reader/src/main.ts).
    const published = [...rules.tables.keys(), HEARTBEAT_TABLE, OUTBOX_TABLE];
    expect(
      match![2]!
        .split(',')
        .map((t) => t.trim())
        .sort(),
    ).toEqual(published.sort());
  });

  it('gives every replicated table REPLICA IDENTITY FULL, as key rules on old rows need', () => {
    const schema = ['fabric-schema.sql', 'demo-schema.sql'].flatMap((file) =>
      statements(read(`deploy/postgres/${file}`)),
    );
    for (const table of REPLICATED_TABLES) expect(schema).toContain(`alter table ${table} replica identity full`);
  });
});
