import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ensureSlotAndPublication, parseTableName, quoteIdent, SlotSetupError } from '../src/slot-setup.js';

describe('quoteIdent / parseTableName', () => {
  it('double-quotes identifiers and doubles embedded quotes', () => {
    expect(quoteIdent('users')).toBe('"users"');
    expect(quoteIdent('My Table')).toBe('"My Table"');
    expect(quoteIdent('a"; drop table x; --')).toBe('"a""; drop table x; --"');
    expect(() => quoteIdent('')).toThrow(SlotSetupError);
    expect(() => quoteIdent('a\u0000b')).toThrow(/NUL/);
  });

  it('splits schema.table at the first dot; a bare name is in public', () => {
    expect(parseTableName('public.users')).toEqual({ schema: 'public', name: 'users' });
    expect(parseTableName('users')).toEqual({ schema: 'public', name: 'users' });
    expect(parseTableName('s.t.with.dots')).toEqual({ schema: 's', name: 't.with.dots' });
    for (const bad of ['.x', 'x.', '']) expect(() => parseTableName(bad)).toThrow(/invalid table name/);
  });
});

interface FakeState {
  publication?: { all: boolean; tables: string[] };
  slot?: { plugin: string; slot_type: string; database: string; confirmed_flush_lsn: string };
  tables: Record<string, { relreplident: string; relkind?: string; has_pk?: boolean; has_ri_index?: boolean }>;
  /** The database is a physical standby (in recovery): no DDL. */
  standby?: boolean;
  /** What to_jsonb(pg_replication_slots) adds for an invalidated slot. */
  invalidation?: Record<string, unknown>;
  /** Error code thrown once by the next CREATE PUBLICATION / slot creation (a concurrent reader won the race). */
  raceOn?: 'publication' | 'slot';
  /** server_version_num; default 170000. */
  version?: number;
}

/** Just enough of pg.Client for ensureSlotAndPublication: answers its catalog queries from `state`. */
function fakeClient(state: FakeState) {
  const statements: string[] = [];
  const client = {
    async query(text: string, params: unknown[] = []) {
      statements.push(text);
      const rows = (r: object[]) => ({ rows: r, rowCount: r.length });
      if (text.includes('from pg_class c')) {
        const t = state.tables[`${params[0]}.${params[1]}`];
        return rows(t ? [{ relkind: 'r', has_pk: false, has_ri_index: false, ...t }] : []);
      }
      if (text.startsWith('select puballtables'))
        return rows(state.publication ? [{ puballtables: state.publication.all }] : []);
      if (text.includes('from pg_publication_tables')) {
        return rows(
          (state.publication?.tables ?? []).map((t) => ({
            schemaname: t.split('.')[0],
            tablename: t.split('.').slice(1).join('.'),
          })),
        );
      }
      if (text.startsWith('CREATE PUBLICATION')) {
        const names = [...text.matchAll(/"((?:[^"]|"")*)"\."((?:[^"]|"")*)"/g)].map(
          (m) => `${m[1]!.replace(/""/g, '"')}.${m[2]!.replace(/""/g, '"')}`,
        );
        state.publication = { all: false, tables: names };
        if (state.raceOn === 'publication') {
          state.raceOn = undefined;
          throw Object.assign(new Error('publication already exists'), { code: '42710' });
        }
        return rows([]);
      }
      if (text.startsWith('ALTER PUBLICATION')) {
        const m = /ADD TABLE "((?:[^"]|"")*)"\."((?:[^"]|"")*)"/.exec(text)!;
        state.publication!.tables.push(`${m[1]!.replace(/""/g, '"')}.${m[2]!.replace(/""/g, '"')}`);
        return rows([]);
      }
      if (text.includes('to_jsonb(s)'))
        return rows(state.slot ? [{ s: { ...state.slot, ...state.invalidation } }] : []);
      if (text.includes('from pg_replication_slots')) return rows(state.slot ? [state.slot] : []);
      if (text.includes('pg_create_logical_replication_slot')) {
        state.slot = { plugin: 'pgoutput', slot_type: 'logical', database: 'fabric', confirmed_flush_lsn: '0/10' };
        if (state.raceOn === 'slot') {
          state.raceOn = undefined;
          throw Object.assign(new Error('slot already exists'), { code: '42710' });
        }
        return rows([]);
      }
      if (text.includes('current_database()')) return rows([{ db: 'fabric' }]);
      if (text.includes('server_version_num')) return rows([{ v: String(state.version ?? 170000) }]);
      if (text.includes('pg_drop_replication_slot')) {
        state.slot = undefined;
        state.invalidation = undefined;
        return rows([]);
      }
      if (text.includes('pg_is_in_recovery()')) return rows([{ standby: state.standby ?? false }]);
      throw new Error(`unexpected query: ${text}`);
    },
  };
  return { client: client as unknown as pg.Client, statements };
}

const goodTables = {
  'public.users': { relreplident: 'f' },
  'public.teams': { relreplident: 'd', has_pk: true },
  'My Schema.Odd"Name': { relreplident: 'i', has_ri_index: true },
};

describe('ensureSlotAndPublication', () => {
  it('creates the publication (quoted names) before the slot', async () => {
    const state: FakeState = { tables: goodTables };
    const { client, statements } = fakeClient(state);
    const result = await ensureSlotAndPublication(client, {
      slot: 'cdc',
      publication: 'pub',
      tables: ['public.users', 'public.teams', 'My Schema.Odd"Name', 'public.users'],
    });
    expect(result).toEqual({ createdPublication: true, addedTables: [], createdSlot: true, confirmedFlushLsn: '0/10' });
    const create = statements.find((s) => s.startsWith('CREATE PUBLICATION'));
    expect(create).toBe(
      'CREATE PUBLICATION "pub" FOR TABLE "public"."users", "public"."teams", "My Schema"."Odd""Name"',
    );
    expect(statements.findIndex((s) => s.startsWith('CREATE PUBLICATION'))).toBeLessThan(
      statements.findIndex((s) => s.includes('pg_create_logical_replication_slot')),
    );
  });

  it('is idempotent and only adds the tables that are missing', async () => {
    const state: FakeState = { tables: goodTables };
    const { client } = fakeClient(state);
    await ensureSlotAndPublication(client, { slot: 'cdc', publication: 'pub', tables: ['public.users'] });
    const { client: again, statements } = fakeClient(state);
    const result = await ensureSlotAndPublication(again, {
      slot: 'cdc',
      publication: 'pub',
      tables: ['public.users', 'public.teams'],
    });
    expect(result).toEqual({
      createdPublication: false,
      addedTables: ['public.teams'],
      createdSlot: false,
      confirmedFlushLsn: '0/10',
    });
    expect(statements.filter((s) => /^(CREATE|ALTER)|pg_create/.test(s))).toEqual([
      'ALTER PUBLICATION "pub" ADD TABLE "public"."teams"',
    ]);
    const { client: third, statements: none } = fakeClient(state);
    expect(
      await ensureSlotAndPublication(third, {
        slot: 'cdc',
        publication: 'pub',
        tables: ['public.users', 'public.teams'],
      }),
    ).toMatchObject({ addedTables: [], createdSlot: false });
    expect(none.filter((s) => /^(CREATE|ALTER)|pg_create/.test(s))).toEqual([]);
  });

  it('leaves a FOR ALL TABLES publication alone', async () => {
    const state: FakeState = { tables: goodTables, publication: { all: true, tables: [] } };
    const { client, statements } = fakeClient(state);
    expect(
      await ensureSlotAndPublication(client, { slot: 'cdc', publication: 'pub', tables: ['public.users'] }),
    ).toMatchObject({ addedTables: [] });
    expect(statements.some((s) => s.startsWith('ALTER'))).toBe(false);
  });

  it('tolerates a concurrent reader creating the publication or slot first', async () => {
    for (const raceOn of ['publication', 'slot'] as const) {
      const state: FakeState = { tables: goodTables, raceOn };
      const { client } = fakeClient(state);
      const result = await ensureSlotAndPublication(client, {
        slot: 'cdc',
        publication: 'pub',
        tables: ['public.users'],
      });
      expect(result.createdPublication).toBe(raceOn !== 'publication');
      expect(result.createdSlot).toBe(raceOn !== 'slot');
    }
  });

  it('refuses missing tables and tables without a usable replica identity', async () => {
    const state: FakeState = {
      tables: {
        'public.nopk': { relreplident: 'd' },
        'public.nothing': { relreplident: 'n', has_pk: true },
        'public.v': { relreplident: 'd', relkind: 'v' },
      },
    };
    const { client, statements } = fakeClient(state);
    await expect(
      ensureSlotAndPublication(client, { slot: 'cdc', publication: 'pub', tables: ['public.absent'] }),
    ).rejects.toThrow(/public.absent does not exist/);
    await expect(
      ensureSlotAndPublication(client, { slot: 'cdc', publication: 'pub', tables: ['public.nopk'] }),
    ).rejects.toThrow(/DEFAULT without a primary key/);
    await expect(
      ensureSlotAndPublication(client, { slot: 'cdc', publication: 'pub', tables: ['public.nothing'] }),
    ).rejects.toThrow(/REPLICA IDENTITY NOTHING/);
    await expect(
      ensureSlotAndPublication(client, { slot: 'cdc', publication: 'pub', tables: ['public.v'] }),
    ).rejects.toThrow(/not a table/);
    expect(statements.some((s) => /^(CREATE|ALTER)/.test(s))).toBe(false);
  });

  it('refuses a slot of the wrong kind or database', async () => {
    const wrongPlugin: FakeState = {
      tables: goodTables,
      slot: { plugin: 'wal2json', slot_type: 'logical', database: 'fabric', confirmed_flush_lsn: '0/1' },
    };
    await expect(
      ensureSlotAndPublication(fakeClient(wrongPlugin).client, { slot: 'cdc', publication: 'pub', tables: [] }),
    ).rejects.toThrow(/expected logical\/pgoutput/);
    const otherDb: FakeState = {
      tables: goodTables,
      slot: { plugin: 'pgoutput', slot_type: 'logical', database: 'other', confirmed_flush_lsn: '0/1' },
    };
    await expect(
      ensureSlotAndPublication(fakeClient(otherDb).client, { slot: 'cdc', publication: 'pub', tables: [] }),
    ).rejects.toThrow(/belongs to database other/);
  });
});

describe('ensureSlotAndPublication on a physical standby', () => {
  const users = { 'public.users': { relreplident: 'f' } };

  it('runs no DDL for the publication and waits for it to arrive from the primary', async () => {
    const state: FakeState = { standby: true, tables: users };
    const { client, statements } = fakeClient(state);
    const waits: string[] = [];
    const setup = ensureSlotAndPublication(client, {
      slot: 'fabric_cdc',
      publication: 'fabric_cdc',
      tables: ['public.users'],
      onWait: (m) => {
        waits.push(m);
        // The primary's CREATE PUBLICATION replays while the reader waits.
        state.publication = { all: false, tables: ['public.users'] };
      },
    });
    await expect(setup).resolves.toMatchObject({ createdPublication: false, createdSlot: true });
    expect(statements.some((s) => /^(CREATE|ALTER) PUBLICATION/.test(s))).toBe(false);
    expect(waits[0]).toBe(
      'publication fabric_cdc does not exist on this standby yet; waiting for it to arrive from the primary',
    );
    expect(waits[1]).toContain('creating slot fabric_cdc on a standby waits for the primary');
  });

  it('names the missing tables and the statement to run at the primary once the wait is over', async () => {
    const { client } = fakeClient({ standby: true, tables: users, publication: { all: false, tables: [] } });
    const err = await ensureSlotAndPublication(client, {
      slot: 'fabric_cdc',
      publication: 'fabric_cdc',
      tables: ['public.users'],
      publicationWaitMs: 0,
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(SlotSetupError);
    expect((err as Error).message).toContain('publication fabric_cdc does not publish public.users');
    expect((err as Error).message).toContain('CREATE PUBLICATION "fabric_cdc" FOR TABLE "public"."users"');
  });
});

describe('an invalidated slot', () => {
  const base = {
    tables: { 'public.users': { relreplident: 'f' } },
    publication: { all: false, tables: ['public.users'] },
    slot: { plugin: 'pgoutput', slot_type: 'logical', database: 'fabric', confirmed_flush_lsn: '0/10' },
  };
  const cases: Array<[string, Record<string, unknown>, boolean, RegExp]> = [
    [
      'PostgreSQL 17+ names the reason',
      { invalidation_reason: 'rows_removed', conflicting: true },
      true,
      /\(rows_removed\) on this standby/,
    ],
    ['PostgreSQL 16 flags a conflict', { conflicting: true }, true, /conflict with recovery on the standby/],
    ['WAL past max_slot_wal_keep_size', { wal_status: 'lost', conflicting: null }, false, /wal_removed/],
  ];
  for (const [what, invalidation, standby, reason] of cases) {
    it(`stops the reader with the reason and the recovery: ${what}`, async () => {
      const { client } = fakeClient({ ...base, standby, invalidation });
      const err = await ensureSlotAndPublication(client, {
        slot: 'fabric_cdc',
        publication: 'fabric_cdc',
        tables: ['public.users'],
      }).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(SlotSetupError);
      expect((err as Error).message).toMatch(reason);
      expect((err as Error).message).toContain("select pg_drop_replication_slot('fabric_cdc')");
    });
  }

  it('replaces it, saying why, when the reader checks continuity (the resync covers the lost WAL)', async () => {
    const state: FakeState = { ...base, invalidation: { wal_status: 'lost' } };
    const { client, statements } = fakeClient(state);
    const result = await ensureSlotAndPublication(client, {
      slot: 'fabric_cdc',
      publication: 'fabric_cdc',
      tables: ['public.users'],
      replaceInvalidated: true,
    });
    expect(result).toMatchObject({ createdSlot: true, replacedInvalidated: expect.stringContaining('wal_removed') });
    const drop = statements.findIndex((t) => t.includes('pg_drop_replication_slot'));
    const create = statements.findIndex((t) => t.includes('pg_create_logical_replication_slot'));
    expect(drop).toBeGreaterThanOrEqual(0);
    expect(create).toBeGreaterThan(drop);
  });

  it('leaves a usable slot alone', async () => {
    const { client } = fakeClient({
      ...base,
      invalidation: { wal_status: 'reserved', conflicting: false, invalidation_reason: null },
    });
    await expect(
      ensureSlotAndPublication(client, { slot: 'fabric_cdc', publication: 'fabric_cdc', tables: ['public.users'] }),
    ).resolves.toMatchObject({ createdSlot: false });
  });
});

describe('the slot it creates', () => {
  const tables = { 'public.users': { relreplident: 'f' } };
  const created = async (state: FakeState) => {
    const { client, statements } = fakeClient(state);
    await ensureSlotAndPublication(client, { slot: 'fabric_cdc', publication: 'fabric_cdc', tables: ['public.users'] });
    return statements.find((t) => t.includes('pg_create_logical_replication_slot'));
  };

  it('is a failover slot on a PostgreSQL 17+ primary, and a plain one on 16 or on a standby', async () => {
    expect(await created({ tables })).toContain("'pgoutput', false, false, true");
    expect(await created({ tables, version: 160004 })).toBe(
      "select pg_create_logical_replication_slot($1, 'pgoutput')",
    );
    expect(await created({ tables, standby: true, publication: { all: false, tables: ['public.users'] } })).toBe(
      "select pg_create_logical_replication_slot($1, 'pgoutput')",
    );
  });
});
