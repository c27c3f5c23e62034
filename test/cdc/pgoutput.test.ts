import { setTimeout as sleep } from 'node:timers/promises';
import { compareLsn, type Lsn, lsnToBigInt } from '@fabric/contracts';
import type { RegionEndpoints } from '@fabric/sandbox';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type BeginMessage,
  type CommitMessage,
  isRowMessage,
  type PgoutputMessage,
  ReplicationStream,
  type ReplicationStreamOptions,
  type RowMessage,
} from '../../packages/cdc-reader/src/pgoutput/index.js';
import { toRowChange } from '../../packages/cdc-reader/src/row-change.js';
import { ensureSlotAndPublication } from '../../packages/cdc-reader/src/slot-setup.js';
import { eventually } from '../support.js';

/**
 * The pgoutput decoder and replication stream against real WAL of the sandbox's home
 * primary, on a slot and publication of their own (dropped at the end).
 */

const SLOT = 'test_decoder';
const PUBLICATION = 'test_decoder';
const SCHEMA = 'test_decoder';
const logger = pino({ level: process.env.FABRIC_LOG_LEVEL ?? 'warn' }, pino.destination(2));
/** For streams that are meant to fail. */
const quiet = pino({ level: 'silent' });

interface Txn {
  begin: BeginMessage;
  beginLsn: Lsn;
  changes: { lsn: Lsn; msg: PgoutputMessage }[];
  commit: CommitMessage;
  commitLsn: Lsn;
}

/** A stream that records everything it is handed. */
class Collector {
  readonly events: { lsn: Lsn; msg: PgoutputMessage }[] = [];
  readonly keepalives: Lsn[] = [];
  readonly stream: ReplicationStream;

  constructor(region: RegionEndpoints, opts: Partial<ReplicationStreamOptions> = {}) {
    this.stream = new ReplicationStream({
      connectionString: region.postgres.url,
      slot: SLOT,
      publication: PUBLICATION,
      logger,
      statusIntervalMs: 100,
      onKeepalive: (walEnd) => this.keepalives.push(walEnd),
      ...opts,
    });
  }

  /** `before` runs (and is awaited) in the handler, before the message is recorded. */
  async start(before?: (lsn: Lsn, msg: PgoutputMessage) => Promise<void>): Promise<this> {
    await this.stream.start(async (lsn, msg) => {
      await before?.(lsn, msg);
      this.events.push({ lsn, msg });
    });
    return this;
  }

  txns(): Txn[] {
    const out: Txn[] = [];
    let open: Omit<Txn, 'commit' | 'commitLsn'> | undefined;
    for (const { lsn, msg } of this.events) {
      if (msg.tag === 'begin') open = { begin: msg, beginLsn: lsn, changes: [] };
      else if (msg.tag === 'commit') {
        if (open) out.push({ ...open, commit: msg, commitLsn: lsn });
        open = undefined;
      } else if (open) open.changes.push({ lsn, msg });
    }
    return out;
  }

  waitTxn(what: string, match: (t: Txn) => boolean): Promise<Txn> {
    return eventually(what, async () => this.txns().find(match));
  }

  /** Confirms the last complete transaction, so that the next stream starts after it. */
  confirmAll(): void {
    const last = this.txns().at(-1);
    if (last) this.stream.confirm(last.commit.endLsn);
  }

  async stop(): Promise<void> {
    await this.stream.stop();
    expect(await this.stream.closed).toBeUndefined();
    await waitSlotInactive(db); // the walsender exits after the connection closed
  }
}

/** The row a change carries for `table`, when one of its tuples has `id`. */
function touches(t: Txn, table: string, id: string): boolean {
  return t.changes.some(({ msg }) => {
    if (msg.tag !== 'insert' && msg.tag !== 'update' && msg.tag !== 'delete') return false;
    if (`${msg.relation.schema}.${msg.relation.name}` !== table) return false;
    const tuples = [msg.tag === 'delete' ? undefined : msg.newTuple, msg.tag === 'insert' ? undefined : msg.oldTuple];
    return tuples.some((tuple) => tuple?.values.id === id);
  });
}

function rowMessages(t: Txn): RowMessage[] {
  return t.changes.map((c) => c.msg).filter(isRowMessage);
}

async function slotConfirmed(db: pg.Client): Promise<Lsn> {
  const { rows } = await db.query(
    'select confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = $1',
    [SLOT],
  );
  return rows[0].lsn as Lsn;
}

async function waitSlotInactive(db: pg.Client): Promise<void> {
  if (!db) return;
  await eventually('slot released', async () =>
    (await db.query('select active from pg_replication_slots where slot_name = $1', [SLOT])).rows[0]?.active === false
      ? true
      : undefined,
  );
}

let db: pg.Client;
let uniq = Math.floor(Date.now() / 1000) * 1000;
const nextId = (): string => String(++uniq);

async function dropAll(db: pg.Client): Promise<void> {
  await db.query('select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = $1 and active', [
    SLOT,
  ]);
  await eventually('old slot inactive', async () =>
    (await db.query('select 1 from pg_replication_slots where slot_name = $1 and active', [SLOT])).rowCount === 0
      ? true
      : undefined,
  );
  await db.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1', [SLOT]);
  await db.query(`drop publication if exists ${PUBLICATION}`);
  await db.query(`drop schema if exists ${SCHEMA} cascade`);
}

describe('pgoutput decoder and replication stream on real WAL', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  const userIds: string[] = [];

  beforeAll(async () => {
    db = new pg.Client({ connectionString: home.postgres.url });
    await db.connect();
    await dropAll(db);
    await db.query(`create schema ${SCHEMA}`);
    // REPLICA IDENTITY DEFAULT: old tuples are 'K' (key only).
    await db.query(`create table ${SCHEMA}.keyed (id bigint primary key, label text, note text)`);
    await db.query(`create table ${SCHEMA}."Typed" (
      id bigint primary key, n numeric, f float8, ts timestamptz, d date, j jsonb, b bool,
      by bytea, arr int[], t text, u uuid, iv interval, empty text, nothing text)`);
  });

  afterAll(async () => {
    if (!db) return;
    if (userIds.length) await db.query('delete from public.users where id = any($1::bigint[])', [userIds]);
    await dropAll(db);
    await db.end();
  });

  it('creates the publication and slot, idempotently, and adds missing tables', async () => {
    const first = await ensureSlotAndPublication(db, {
      slot: SLOT,
      publication: PUBLICATION,
      tables: ['public.users', `${SCHEMA}.keyed`],
    });
    expect(first).toMatchObject({ createdPublication: true, createdSlot: true, addedTables: [] });
    const second = await ensureSlotAndPublication(db, {
      slot: SLOT,
      publication: PUBLICATION,
      tables: ['public.users', `${SCHEMA}.keyed`, `${SCHEMA}.Typed`, 'public.teams'],
    });
    expect(second).toMatchObject({
      createdPublication: false,
      createdSlot: false,
      addedTables: [`${SCHEMA}.Typed`, 'public.teams'],
    });
    const third = await ensureSlotAndPublication(db, {
      slot: SLOT,
      publication: PUBLICATION,
      tables: ['public.users', `${SCHEMA}.Typed`],
    });
    expect(third).toMatchObject({ createdPublication: false, createdSlot: false, addedTables: [] });
    const { rows } = await db.query(
      'select schemaname, tablename from pg_publication_tables where pubname = $1 order by 1, 2',
      [PUBLICATION],
    );
    expect(rows).toEqual([
      { schemaname: 'public', tablename: 'teams' },
      { schemaname: 'public', tablename: 'users' },
      { schemaname: SCHEMA, tablename: 'Typed' },
      { schemaname: SCHEMA, tablename: 'keyed' },
    ]);
    const slot = (await db.query('select plugin, slot_type from pg_replication_slots where slot_name = $1', [SLOT]))
      .rows[0];
    expect(slot).toEqual({ plugin: 'pgoutput', slot_type: 'logical' });
    // PostgreSQL 17+: a failover slot, which an in-region standby with sync_replication_slots keeps a copy of.
    const { rows: flags } = await db.query(
      `select current_setting('server_version_num')::int >= 170000 as v17, to_jsonb(s)->'failover' as failover
         from pg_replication_slots s where slot_name = $1`,
      [SLOT],
    );
    expect(flags[0].failover).toBe(flags[0].v17 ? true : null);
    await expect(
      ensureSlotAndPublication(db, { slot: SLOT, publication: PUBLICATION, tables: [`${SCHEMA}.missing`] }),
    ).rejects.toThrow(/does not exist/);
  });

  it('decodes inserts, updates and deletes with values exactly as PostgreSQL prints them', async () => {
    const c = await new Collector(home).start();
    try {
      const id = nextId();
      await db.query(
        `insert into ${SCHEMA}."Typed" values ($1, 12345.678900, 0.1, '2024-02-29 12:34:56.789012+05:30', '2024-02-29',
          '{"b": [1, 2.50], "a": "é ☃ 😀"}', true, '\\x00ff10', '{1,NULL,3}', E'quote'' "dq" \\\\ back\\nnewline\\ttab é😀',
          'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:03:04.5', '', null)`,
        [id],
      );
      const txn = await c.waitTxn('typed insert', (t) => touches(t, `${SCHEMA}.Typed`, id));
      const insert = rowMessages(txn)[0]!;
      expect(insert.tag).toBe('insert');
      // What a plain query returns on the wire in text format (the types' output functions), unparsed.
      const raw = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;
      const expected = (
        await db.query({ text: `select * from ${SCHEMA}."Typed" where id = $1`, values: [id], types: raw })
      ).rows[0];
      expect(insert.tag === 'insert' && insert.newTuple).toEqual({ values: expected, unchangedToast: [] });
      expect(expected).toMatchObject({
        n: '12345.678900',
        f: '0.1',
        b: 't',
        by: '\\x00ff10',
        arr: '{1,NULL,3}',
        empty: '',
        nothing: null,
      });
      expect(insert.tag === 'insert' && insert.relation).toMatchObject({
        schema: SCHEMA,
        name: 'Typed',
        replicaIdentity: 'd',
      });

      // A demo table with REPLICA IDENTITY FULL: 'O' old tuples with every column.
      const uid = nextId();
      userIds.push(uid);
      await db.query("insert into public.users (id, team_id, name, email) values ($1, 7, 'Ann', null)", [uid]);
      await db.query("update public.users set name = 'Anne', team_id = 8 where id = $1", [uid]);
      await db.query('delete from public.users where id = $1', [uid]);
      const ins = await c.waitTxn(
        'user insert',
        (t) => touches(t, 'public.users', uid) && rowMessages(t)[0]?.tag === 'insert',
      );
      const upd = await c.waitTxn(
        'user update',
        (t) => touches(t, 'public.users', uid) && rowMessages(t)[0]?.tag === 'update',
      );
      const del = await c.waitTxn(
        'user delete',
        (t) => touches(t, 'public.users', uid) && rowMessages(t)[0]?.tag === 'delete',
      );
      const row = { id: uid, team_id: '7', name: 'Ann', email: null, avatar_url: null, bio: null };
      const after = { ...row, team_id: '8', name: 'Anne' };
      const insMsg = rowMessages(ins)[0]!;
      const updMsg = rowMessages(upd)[0]!;
      const delMsg = rowMessages(del)[0]!;
      expect(insMsg.relation.replicaIdentity).toBe('f');
      expect(insMsg.relation.columns.map((col) => [col.name, col.typeOid, col.isKey])).toEqual([
        ['id', 20, true],
        ['team_id', 20, true],
        ['name', 25, true],
        ['email', 25, true],
        ['avatar_url', 25, true],
        ['bio', 25, true],
      ]);
      expect(toRowChange(insMsg)).toEqual({
        kind: 'insert',
        table: 'public.users',
        keyColumns: ['id', 'team_id', 'name', 'email', 'avatar_url', 'bio'],
        newRow: row,
        unchangedToast: [],
      });
      expect(updMsg).toMatchObject({
        tag: 'update',
        oldKind: 'O',
        oldTuple: { values: row },
        newTuple: { values: after },
      });
      expect(toRowChange(updMsg)).toMatchObject({ kind: 'update', oldRow: row, newRow: after, unchangedToast: [] });
      expect(toRowChange(delMsg)).toEqual({
        kind: 'delete',
        table: 'public.users',
        keyColumns: ['id', 'team_id', 'name', 'email', 'avatar_url', 'bio'],
        oldRow: after,
        unchangedToast: [],
      });
      // Transaction framing: BEGIN names the commit record COMMIT starts at; COMMIT arrives at its end.
      for (const t of [txn, ins, upd, del]) {
        expect(t.begin.finalLsn).toBe(t.commit.commitLsn);
        expect(t.commitLsn).toBe(t.commit.endLsn);
        expect(t.begin.commitTimeMicros).toBe(t.commit.commitTimeMicros);
        expect(Math.abs(t.commit.commitTime.getTime() - Date.now())).toBeLessThan(60_000);
      }
      c.confirmAll();
    } finally {
      await c.stop();
    }
  });

  it("leaves an unchanged TOASTed value out of the new tuple ('u') and lists it in unchangedToast", async () => {
    const c = await new Collector(home).start();
    try {
      const uid = nextId();
      userIds.push(uid);
      // ~19 KB of random hex: too big to stay inline and incompressible enough to go out of line.
      await db.query(
        "insert into public.users (id, team_id, name, bio) values ($1, 1, 'Toast', (select string_agg(md5(random()::text), '') from generate_series(1, 600)))",
        [uid],
      );
      await db.query("update public.users set name = 'Toasted' where id = $1", [uid]);
      const bio = (await db.query('select bio from public.users where id = $1', [uid])).rows[0].bio as string;
      expect(bio.length).toBeGreaterThan(8192);
      const upd = await c.waitTxn(
        'toast update',
        (t) => touches(t, 'public.users', uid) && rowMessages(t)[0]?.tag === 'update',
      );
      const msg = rowMessages(upd)[0]!;
      if (msg.tag !== 'update') throw new Error('expected an update');
      expect(msg.newTuple.unchangedToast).toEqual(['bio']);
      expect('bio' in msg.newTuple.values).toBe(false);
      expect(msg.newTuple.values).toEqual({ id: uid, team_id: '1', name: 'Toasted', email: null, avatar_url: null });
      // REPLICA IDENTITY FULL logs the old row flattened, TOASTed value included.
      expect(msg.oldKind).toBe('O');
      expect(msg.oldTuple!.values.bio).toBe(bio);
      const change = toRowChange(msg);
      expect(change.unchangedToast).toEqual(['bio']);
      expect(change.newRow).not.toHaveProperty('bio');
      expect(change.oldRow?.bio).toBe(bio);
      // The insert that created it carried the whole value.
      const ins = await c.waitTxn(
        'toast insert',
        (t) => touches(t, 'public.users', uid) && rowMessages(t)[0]?.tag === 'insert',
      );
      const insMsg = rowMessages(ins)[0]!;
      expect(insMsg.tag === 'insert' && insMsg.newTuple.values.bio).toBe(bio);
      c.confirmAll();
    } finally {
      await c.stop();
    }
  });

  it("sends key-only ('K') old tuples under REPLICA IDENTITY DEFAULT, and RowChange keeps only the key", async () => {
    const c = await new Collector(home).start();
    try {
      const id = nextId();
      const id2 = nextId();
      await db.query(`insert into ${SCHEMA}.keyed values ($1, 'l1', 'n1')`, [id]);
      await db.query(`update ${SCHEMA}.keyed set label = 'l2' where id = $1`, [id]);
      await db.query(`update ${SCHEMA}.keyed set id = $2 where id = $1`, [id, id2]);
      await db.query(`delete from ${SCHEMA}.keyed where id = $1`, [id2]);
      const plain = await c.waitTxn(
        'update without key change',
        (t) =>
          touches(t, `${SCHEMA}.keyed`, id) &&
          rowMessages(t)[0]?.tag === 'update' &&
          rowMessages(t)[0]?.tag === 'update',
      );
      const plainMsg = rowMessages(plain)[0]!;
      expect(plainMsg).toMatchObject({ tag: 'update', newTuple: { values: { id, label: 'l2', note: 'n1' } } });
      expect(plainMsg.tag === 'update' && plainMsg.oldKind).toBeUndefined();
      expect(plainMsg.relation.columns.map((col) => col.isKey)).toEqual([true, false, false]);
      expect(toRowChange(plainMsg)).toEqual({
        kind: 'update',
        table: `${SCHEMA}.keyed`,
        keyColumns: ['id'],
        newRow: { id, label: 'l2', note: 'n1' },
        unchangedToast: [],
      });

      const keyChange = await c.waitTxn(
        'update of the key',
        (t) => touches(t, `${SCHEMA}.keyed`, id2) && rowMessages(t)[0]?.tag === 'update',
      );
      const keyMsg = rowMessages(keyChange)[0]!;
      if (keyMsg.tag !== 'update') throw new Error('expected an update');
      expect(keyMsg.oldKind).toBe('K');
      // On the wire, the non-key columns of a 'K' tuple are NULL although their value is unknown...
      expect(keyMsg.oldTuple!.values).toEqual({ id, label: null, note: null });
      // ...so RowChange keeps only the key.
      expect(toRowChange(keyMsg)).toMatchObject({ oldRow: { id }, newRow: { id: id2, label: 'l2', note: 'n1' } });
      expect(toRowChange(keyMsg).oldRow).toEqual({ id });

      const del = await c.waitTxn(
        'delete by key',
        (t) => touches(t, `${SCHEMA}.keyed`, id2) && rowMessages(t)[0]?.tag === 'delete',
      );
      const delMsg = rowMessages(del)[0]!;
      expect(delMsg).toMatchObject({
        tag: 'delete',
        oldKind: 'K',
        oldTuple: { values: { id: id2, label: null, note: null } },
      });
      expect(toRowChange(delMsg)).toEqual({
        kind: 'delete',
        table: `${SCHEMA}.keyed`,
        keyColumns: ['id'],
        oldRow: { id: id2 },
        unchangedToast: [],
      });
      c.confirmAll();
    } finally {
      await c.stop();
    }
  });

  it('decodes logical messages: transactional inside their transaction, non-transactional on their own', async () => {
    const c = await new Collector(home).start();
    try {
      const id = nextId();
      await db.query('begin');
      await db.query(`insert into ${SCHEMA}.keyed values ($1, 'with-message', null)`, [id]);
      await db.query(`select pg_logical_emit_message(true, 'fabric', '{"keys":["a"]}')`);
      await db.query('commit');
      await db.query(`select pg_logical_emit_message(false, 'fabric', '{"keys":["b"]}')`);
      // A rolled-back transaction: its transactional message vanishes, the other one does not.
      await db.query('begin');
      await db.query(`select pg_logical_emit_message(true, 'fabric', 'rolled-back-tx')`);
      await db.query(`select pg_logical_emit_message(false, 'fabric', 'rolled-back-nontx')`);
      await db.query('rollback');
      const marker = nextId();
      await db.query(`insert into ${SCHEMA}.keyed values ($1, 'marker', null)`, [marker]);
      await c.waitTxn('marker', (t) => touches(t, `${SCHEMA}.keyed`, marker));

      const txn = c.txns().find((t) => touches(t, `${SCHEMA}.keyed`, id))!;
      const inTxn = txn.changes.map((x) => x.msg).filter((m) => m.tag === 'message');
      expect(inTxn).toHaveLength(1);
      expect(inTxn[0]).toMatchObject({ tag: 'message', transactional: true, prefix: 'fabric' });
      expect(inTxn[0]!.tag === 'message' && inTxn[0]!.content.toString('utf8')).toBe('{"keys":["a"]}');

      // Everything received, in order, with transactions folded: non-transactional messages sit between them.
      const outside: { lsn: Lsn; content: string; transactional: boolean }[] = [];
      let depth = 0;
      for (const { lsn, msg } of c.events) {
        if (msg.tag === 'begin') depth++;
        else if (msg.tag === 'commit') depth--;
        else if (msg.tag === 'message' && depth === 0)
          outside.push({ lsn, content: msg.content.toString(), transactional: msg.transactional });
      }
      expect(outside.map((m) => [m.content, m.transactional])).toEqual([
        ['{"keys":["b"]}', false],
        ['rolled-back-nontx', false],
      ]);
      expect(c.events.some(({ msg }) => msg.tag === 'message' && msg.content.toString() === 'rolled-back-tx')).toBe(
        false,
      );
      // The XLogData position of a message is its own LSN (the start of its WAL record).
      for (const { lsn, msg } of c.events) if (msg.tag === 'message') expect(lsn).toBe(msg.lsn);
      c.confirmAll();
    } finally {
      await c.stop();
    }
  });

  it("a logical message's LSN is the end of its record: confirming it means done, it is not redelivered", async () => {
    const content = `nontx-${nextId()}`;
    const later = `nontx-later-${nextId()}`;
    const first = await new Collector(home).start();
    let lsn: Lsn;
    try {
      const emitted = (
        await db.query(`select pg_logical_emit_message(false, 'fabric', $1::text)::text as lsn`, [content])
      ).rows[0].lsn as Lsn;
      lsn = await eventually(
        'the message',
        async () => first.events.find((e) => e.msg.tag === 'message' && e.msg.content.toString() === content)?.lsn,
      );
      // pg_logical_emit_message returns the end of the record it wrote; the message carries the same.
      expect(lsn).toBe(emitted);
      const msg = first.events.find((e) => e.lsn === lsn)!.msg;
      expect(msg.tag === 'message' && msg.lsn).toBe(lsn);
      first.stream.confirm(lsn);
    } finally {
      await first.stop();
    }
    expect(await slotConfirmed(db)).toBe(lsn);
    const second = await new Collector(home).start();
    try {
      await db.query(`select pg_logical_emit_message(false, 'fabric', $1::text)`, [later]);
      await eventually('the next message', async () =>
        second.events.find((e) => e.msg.tag === 'message' && e.msg.content.toString() === later),
      );
      expect(second.events.some((e) => e.msg.tag === 'message' && e.msg.content.toString() === content)).toBe(false);
      second.confirmAll();
    } finally {
      await second.stop();
    }
  });

  it('replaces the cached relation when RELATION is re-sent after ALTER TABLE', async () => {
    const c = await new Collector(home).start();
    try {
      const id = nextId();
      const id2 = nextId();
      await db.query(`insert into ${SCHEMA}.keyed values ($1, 'before-alter', null)`, [id]);
      await db.query(`alter table ${SCHEMA}.keyed add column extra text default 'x'`);
      await db.query(`insert into ${SCHEMA}.keyed values ($1, 'after-alter', null, 'y')`, [id2]);
      await c.waitTxn('insert after alter', (t) => touches(t, `${SCHEMA}.keyed`, id2));
      const relations = c.events.map((e) => e.msg).filter((m) => m.tag === 'relation' && m.relation.name === 'keyed');
      expect(relations.map((m) => m.tag === 'relation' && m.relation.columns.map((col) => col.name))).toEqual([
        ['id', 'label', 'note'],
        ['id', 'label', 'note', 'extra'],
      ]);
      const inserts = c
        .txns()
        .flatMap(rowMessages)
        .filter((m) => m.relation.name === 'keyed');
      expect(inserts.at(-1)).toMatchObject({
        tag: 'insert',
        newTuple: { values: { id: id2, label: 'after-alter', note: null, extra: 'y' } },
      });
      expect(inserts.at(-1)!.relation.columns).toHaveLength(4);
      c.confirmAll();
    } finally {
      await c.stop();
    }
  });

  it('decodes TRUNCATE with its CASCADE and RESTART IDENTITY flags', async () => {
    const c = await new Collector(home).start();
    try {
      await db.query(`insert into ${SCHEMA}.keyed (id, label) values ($1, 'to-truncate')`, [nextId()]);
      await db.query(`truncate ${SCHEMA}.keyed, ${SCHEMA}."Typed" restart identity cascade`);
      await db.query(`truncate ${SCHEMA}.keyed`);
      const truncates = await eventually('two truncates', async () => {
        const found = c.events.map((e) => e.msg).filter((m) => m.tag === 'truncate');
        return found.length >= 2 ? found : undefined;
      });
      const [both, one] = truncates;
      expect(both).toMatchObject({ tag: 'truncate', cascade: true, restartIdentity: true });
      expect(both!.tag === 'truncate' && both!.relations.map((r) => `${r.schema}.${r.name}`).sort()).toEqual([
        `${SCHEMA}.Typed`,
        `${SCHEMA}.keyed`,
      ]);
      expect(one).toMatchObject({ tag: 'truncate', cascade: false, restartIdentity: false });
      expect(one!.tag === 'truncate' && one!.relations.map((r) => r.name)).toEqual(['keyed']);
      c.confirmAll();
    } finally {
      await c.stop();
    }
  });

  it('after confirm(endLsn of txn N) and a reconnect, N is not redelivered and N+1 is', async () => {
    const first = await new Collector(home).start();
    const n = nextId();
    const n1 = nextId();
    let txnN: Txn;
    let txnN1: Txn;
    try {
      await db.query(`insert into ${SCHEMA}.keyed (id, label) values ($1, 'txn N')`, [n]);
      await db.query(`insert into ${SCHEMA}.keyed (id, label) values ($1, 'txn N+1')`, [n1]);
      txnN = await first.waitTxn('txn N', (t) => touches(t, `${SCHEMA}.keyed`, n));
      txnN1 = await first.waitTxn('txn N+1', (t) => touches(t, `${SCHEMA}.keyed`, n1));
      first.stream.confirm(txnN.commit.endLsn);
    } finally {
      await first.stop();
    }
    await waitSlotInactive(db);
    // stop() reported exactly the confirmed position, nothing more.
    expect(await slotConfirmed(db)).toBe(txnN.commit.endLsn);

    const second = await new Collector(home).start();
    try {
      const again = await second.waitTxn('txn N+1 again', (t) => touches(t, `${SCHEMA}.keyed`, n1));
      expect(again.commit.endLsn).toBe(txnN1.commit.endLsn);
      expect(second.txns().some((t) => touches(t, `${SCHEMA}.keyed`, n))).toBe(false);
      second.stream.confirm(again.commit.endLsn);
    } finally {
      await second.stop();
    }
    await waitSlotInactive(db);
    expect(await slotConfirmed(db)).toBe(txnN1.commit.endLsn);
  });

  it('still delivers a transaction whose commit record starts exactly at the confirmed endLsn (no "+1")', async () => {
    // Two sessions commit back to back: B's commit record ends where A's begins. Confirming
    // B.endLsn + 1 (what pg-logical-replication's acknowledge() sends) would skip A for good.
    const a = new pg.Client({ connectionString: home.postgres.url });
    const b = new pg.Client({ connectionString: home.postgres.url });
    await a.connect();
    await b.connect();
    try {
      let pair: { txnA: Txn; txnB: Txn; idA: string } | undefined;
      for (let attempt = 0; attempt < 10 && !pair; attempt++) {
        const c = await new Collector(home).start();
        try {
          const idA = nextId();
          const idB = nextId();
          await a.query('begin');
          await a.query(`insert into ${SCHEMA}.keyed (id, label) values ($1, 'A')`, [idA]);
          await b.query('begin');
          await b.query(`insert into ${SCHEMA}.keyed (id, label) values ($1, 'B')`, [idB]);
          await b.query('commit');
          await a.query('commit');
          const txnA = await c.waitTxn('A', (t) => touches(t, `${SCHEMA}.keyed`, idA));
          const txnB = await c.waitTxn('B', (t) => touches(t, `${SCHEMA}.keyed`, idB));
          if (txnA.begin.finalLsn === txnB.commit.endLsn) {
            pair = { txnA, txnB, idA };
            c.stream.confirm(txnB.commit.endLsn);
          } else {
            c.confirmAll(); // something else was logged in between; try again
          }
        } finally {
          await c.stop();
        }
      }
      if (!pair) throw new Error('could not get two adjacent commit records in 10 attempts');
      await waitSlotInactive(db);
      expect(await slotConfirmed(db)).toBe(pair.txnB.commit.endLsn);
      const again = await new Collector(home).start();
      try {
        const txnA = await again.waitTxn('A after reconnect', (t) => touches(t, `${SCHEMA}.keyed`, pair!.idA));
        expect(txnA.commit.endLsn).toBe(pair.txnA.commit.endLsn);
        again.confirmAll();
      } finally {
        await again.stop();
      }
    } finally {
      await a.end();
      await b.end();
    }
  });

  it("never reports a flush position beyond what confirm() got; onKeepalive offers the sender's position when idle", async () => {
    await waitSlotInactive(db);
    const before = await slotConfirmed(db);
    const c = await new Collector(home).start();
    const seen: Lsn[] = [];
    // Samples the slot for a whole window: the point is that nothing moves during it, so the
    // window is fixed, and 1.5 s spans 15 status intervals (100 ms) and the server's keepalives.
    const poll = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        seen.push(await slotConfirmed(db));
        await sleep(50);
      }
    };
    try {
      const ids = [nextId(), nextId(), nextId()];
      for (const id of ids) await db.query(`insert into ${SCHEMA}.keyed (id, label) values ($1, 'flush')`, [id]);
      const txns = await Promise.all(ids.map((id) => c.waitTxn(`txn ${id}`, (t) => touches(t, `${SCHEMA}.keyed`, id))));
      await poll(1500); // keepalives come and go, status heartbeats are sent: nothing confirmed, nothing moves
      expect(new Set(seen)).toEqual(new Set([before]));
      expect(c.keepalives.length).toBeGreaterThan(0);

      c.stream.confirm(txns[0]!.commit.endLsn);
      await eventually('slot at txn 1', async () =>
        (await slotConfirmed(db)) === txns[0]!.commit.endLsn ? true : undefined,
      );
      seen.length = 0;
      await poll(1500);
      expect(new Set(seen)).toEqual(new Set([txns[0]!.commit.endLsn]));
      const { rows } = await db.query(
        'select r.write_lsn::text as write, r.flush_lsn::text as flush from pg_stat_replication r join pg_replication_slots s on s.active_pid = r.pid where s.slot_name = $1',
        [SLOT],
      );
      expect(rows[0]).toEqual({ write: txns[0]!.commit.endLsn, flush: txns[0]!.commit.endLsn });
      expect(() => c.stream.confirm('FF/0')).toThrow(/beyond/);

      // Idle: all three transactions are handled; keepalives then carry the sender's position,
      // at or after the last commit, which the caller may confirm when nothing is in flight.
      const last = txns[2]!.commit.endLsn;
      const walEnd = await eventually('keepalive after the last commit', async () =>
        c.keepalives.find((k) => compareLsn(k, last) >= 0),
      );
      c.stream.confirm(walEnd);
      await eventually('slot at the keepalive position', async () =>
        (await slotConfirmed(db)) === walEnd ? true : undefined,
      );
      expect(lsnToBigInt(walEnd)).toBeGreaterThanOrEqual(lsnToBigInt(last));
    } finally {
      await c.stop();
    }
    await waitSlotInactive(db);
    expect(compareLsn(await slotConfirmed(db), c.stream.confirmedLsn)).toBe(0);
  });

  it('answers keepalive requests, so wal_sender_timeout does not end an idle stream', async () => {
    // A short wal_sender_timeout for this connection only; no periodic status of our own.
    const url = new URL(home.postgres.url);
    url.searchParams.set('options', '-c wal_sender_timeout=2s');
    const idleSince = Date.now();
    const c = await new Collector(home, { connectionString: url.toString(), heartbeatIntervalMs: 600_000 }).start();
    try {
      // The server asks for a reply after half its timeout without one; three answered requests
      // mean the stream has outlived wal_sender_timeout on the replies alone.
      await eventually(
        'three keepalive requests answered',
        async () => (c.stream.stats().replyRequests >= 3 ? true : undefined),
        15_000,
      );
      expect(Date.now() - idleSince).toBeGreaterThan(2_000);
      expect(c.stream.stats().state).toBe('streaming');
      // Still alive and decoding.
      const id = nextId();
      await db.query(`insert into ${SCHEMA}.keyed (id, label) values ($1, 'after idle')`, [id]);
      await c.waitTxn('txn after idle', (t) => touches(t, `${SCHEMA}.keyed`, id));
      c.confirmAll();
    } finally {
      await c.stop();
    }
  });

  it('awaits the handler message by message, in order, and stays connected while a handler blocks', async () => {
    // The handler blocks longer than this connection's wal_sender_timeout; the periodic status
    // update (written while reading is paused) keeps the walsender from timing out.
    const url = new URL(home.postgres.url);
    url.searchParams.set('options', '-c wal_sender_timeout=2s');
    const base = Number(nextId()) * 100;
    let active = 0;
    let maxActive = 0;
    let blocked = false;
    const c = new Collector(home, { connectionString: url.toString(), heartbeatIntervalMs: 500 });
    await c.start(async (_lsn, msg) => {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        if (msg.tag === 'insert' && msg.newTuple.values.label === 'slow' && !blocked) {
          blocked = true;
          await sleep(5000); // the block itself: longer than wal_sender_timeout (2 s)
        } else {
          await sleep(2);
        }
      } finally {
        active--;
      }
    });
    try {
      await db.query(
        `insert into ${SCHEMA}.keyed (id, label) select $1::bigint + g, 'slow' from generate_series(0, 49) g`,
        [base],
      );
      const txn = await c.waitTxn('the slow transaction', (t) => touches(t, `${SCHEMA}.keyed`, String(base + 49)));
      expect(rowMessages(txn).map((m) => m.tag === 'insert' && m.newTuple.values.id)).toEqual(
        Array.from({ length: 50 }, (_, i) => String(base + i)),
      );
      expect(maxActive).toBe(1);
      expect(c.stream.stats().state).toBe('streaming');
      c.confirmAll();
    } finally {
      await c.stop();
    }
  });

  it.skipIf(!endpoints.regions.some((r) => !r.home))(
    'on a regional replica, BEGIN carries the primary commit time; a logical replica adds an ORIGIN message, a standby replays the very same WAL',
    async () => {
      const replica = endpoints.regions.find((r) => !r.home)!;
      const physical = endpoints.replication === 'physical';
      const rdb = new pg.Client({ connectionString: replica.postgres.url });
      await rdb.connect();
      const teamId = nextId();
      try {
        // A standby gets the publication from the primary, and its new slot waits for the
        // primary to log running transactions.
        if (physical)
          await ensureSlotAndPublication(db, { slot: SLOT, publication: PUBLICATION, tables: ['public.teams'] });
        const snapshots = physical
          ? setInterval(() => void db.query('select pg_log_standby_snapshot()'), 200)
          : undefined;
        try {
          await ensureSlotAndPublication(rdb, { slot: SLOT, publication: PUBLICATION, tables: ['public.teams'] });
        } finally {
          clearInterval(snapshots);
        }
        const atHome = await new Collector(home).start();
        const atReplica = await new Collector(replica).start();
        try {
          await db.query("insert into public.teams (id, name) values ($1, 'test-decoder-origin')", [teamId]);
          const h = await atHome.waitTxn('team at home', (t) => touches(t, 'public.teams', teamId));
          const r = await atReplica.waitTxn('team at the replica', (t) => touches(t, 'public.teams', teamId));
          expect(r.begin.commitTimeMicros).toBe(h.begin.commitTimeMicros);
          expect(r.commit.commitTime.getTime()).toBe(h.commit.commitTime.getTime());
          if (physical) {
            expect(r.changes.some((c) => c.msg.tag === 'origin')).toBe(false);
            expect(r.commit.endLsn).toBe(h.commit.endLsn);
          } else {
            const origin = r.changes[0]!.msg;
            expect(origin).toMatchObject({ tag: 'origin', originLsn: h.commit.endLsn });
            expect(origin.tag === 'origin' && origin.name).toMatch(/^pg_\d+$/);
          }
          expect(rowMessages(r)[0]).toMatchObject({
            tag: 'insert',
            newTuple: { values: { id: teamId, name: 'test-decoder-origin' } },
          });
          atHome.confirmAll();
          atReplica.confirmAll();
        } finally {
          await atHome.stop();
          await atReplica.stream.stop();
        }
      } finally {
        await db.query('delete from public.teams where id = $1', [teamId]);
        await eventually('replica slot released', async () =>
          (await rdb.query('select 1 from pg_replication_slots where slot_name = $1 and active', [SLOT])).rowCount === 0
            ? true
            : undefined,
        );
        await rdb.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1', [
          SLOT,
        ]);
        if (!physical) await rdb.query(`drop publication if exists ${PUBLICATION}`);
        await rdb.end();
      }
    },
  );

  it('fails start() clearly when the slot does not exist, and closed reports a server-side termination', async () => {
    const missing = new ReplicationStream({
      connectionString: home.postgres.url,
      slot: 'test_decoder_missing',
      publication: PUBLICATION,
      logger: quiet,
    });
    await expect(missing.start(() => undefined)).rejects.toThrow(/does not exist/);
    expect(await missing.closed).toBeInstanceOf(Error);

    const c = await new Collector(home, { logger: quiet }).start();
    await db.query('select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = $1', [SLOT]);
    const err = await c.stream.closed;
    expect(err).toBeInstanceOf(Error);
    expect(c.stream.stats().state).toBe('closed');
    await c.stream.stop(); // harmless after a failure
    await waitSlotInactive(db);
  });

  it('a handler that throws fails the stream and nothing after that message is handled', async () => {
    const handled: PgoutputMessage[] = [];
    const stream = new ReplicationStream({
      connectionString: home.postgres.url,
      slot: SLOT,
      publication: PUBLICATION,
      logger: quiet,
    });
    const id = nextId();
    await stream.start(async (_lsn, msg) => {
      if (msg.tag === 'insert' && msg.newTuple.values.label === 'poison') throw new Error('handler failed');
      handled.push(msg);
    });
    await db.query(`insert into ${SCHEMA}.keyed (id, label) values ($1, 'poison')`, [id]);
    await db.query(`insert into ${SCHEMA}.keyed (id, label) values ($1, 'after poison')`, [nextId()]);
    const err = await stream.closed;
    expect(err?.message).toBe('handler failed');
    expect(handled.some((m) => m.tag === 'insert' && m.newTuple.values.label === 'after poison')).toBe(false);
    expect(['begin', 'relation']).toContain(handled.at(-1)?.tag);
    await waitSlotInactive(db);
  });
});
