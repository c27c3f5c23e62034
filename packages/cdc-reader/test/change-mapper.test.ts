import { Operation } from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import { ChangeMapper, type CommitContext, type SkippedChange } from '../src/change-mapper.js';
import type { PgoutputMessage, Relation } from '../src/pgoutput/index.js';
import { relayMark } from '../src/relay.js';
import { parseKeyRules } from '../src/rules/index.js';

const rules = parseKeyRules(
  `version: 1
tables:
  public.users:
    keys: ["user:{id}"]
    tags: ["team:{team_id}:members", "team:{old.team_id}:members"]
    when_columns: [team_id, name]
    recovery:
      patterns: ["user:*"]
  public.broken:
    keys: ["b:{missing}"]
    recovery:
      patterns: ["b:*"]
`,
  'test.yaml',
);

const relation = (schema: string, name: string, cols: string[]): Relation => ({
  id: 1,
  schema,
  name,
  replicaIdentity: 'f',
  columns: cols.map((c) => ({ name: c, typeOid: 25, isKey: true })),
});
const users = relation('public', 'users', ['id', 'team_id', 'name', 'bio']);
const tuple = (values: Record<string, string | null>, unchangedToast: string[] = []) => ({ values, unchangedToast });
const ctx = (): CommitContext => ({ finalLsn: '0/1A2B', commitTime: new Date('2026-01-01T00:00:00Z'), index: 0 });
const now = () => new Date('2026-01-01T00:00:01Z');

describe('ChangeMapper', () => {
  const home = new ChangeMapper(rules, 'us-east', true, now);
  const edge = new ChangeMapper(rules, 'eu-west', false, now);

  it('maps an update that moves a row to an event with both groups, keyed by the first cache key', () => {
    const msg: PgoutputMessage = {
      tag: 'update',
      relation: users,
      oldKind: 'O',
      oldTuple: tuple({ id: '7', team_id: '1', name: 'a', bio: 'x' }),
      newTuple: tuple({ id: '7', team_id: '2', name: 'a' }, ['bio']),
    };
    const c = ctx();
    const [out] = home.map(msg, c);
    expect(out?.kind).toBe('event');
    if (out?.kind !== 'event') return;
    expect(out.key).toBe('user:7');
    expect(out.event.id).toBe('us-east:0/1A2B:0');
    expect(out.event.operation).toBe(Operation.UPDATE);
    expect(out.event.keys).toEqual(['user:7']);
    expect(out.event.tags).toEqual(['team:2:members', 'team:1:members']);
    expect(out.event.primaryCommitTime?.seconds).toBe(BigInt(Date.parse('2026-01-01T00:00:00Z') / 1000));
    expect(c.index).toBe(1);
  });

  it('skips an update that touches no when_column', () => {
    const msg: PgoutputMessage = {
      tag: 'update',
      relation: users,
      oldKind: 'O',
      oldTuple: tuple({ id: '7', team_id: '1', name: 'a', bio: 'x' }),
      newTuple: tuple({ id: '7', team_id: '1', name: 'a', bio: 'y' }),
    };
    expect(home.map(msg, ctx())).toEqual([]);
  });

  it('sends an unrenderable change to the dead-letter topic with its reason and row', () => {
    const msg: PgoutputMessage = {
      tag: 'insert',
      relation: relation('public', 'broken', ['id']),
      newTuple: tuple({ id: '1' }),
    };
    const [out] = home.map(msg, ctx());
    expect(out?.kind).toBe('dead-letter');
    if (out?.kind !== 'dead-letter') return;
    expect(out.deadLetter.reason).toContain('missing');
    expect(out.deadLetter.table).toBe('public.broken');
    expect(out.deadLetter.sourceLsn).toBe('0/1A2B');
    expect(JSON.parse(out.deadLetter.change).newRow).toEqual({ id: '1' });
  });

  it('ignores tables without rules, but tells the skip observer which relation it was', () => {
    const skipped: SkippedChange[] = [];
    const mapper = new ChangeMapper(rules, 'us-east', true, now, (s) => void skipped.push(s));
    const other = relation('public', 'other', ['id']);
    const msg: PgoutputMessage = { tag: 'insert', relation: other, newTuple: tuple({ id: '1' }) };
    expect(mapper.map(msg, ctx())).toEqual([]);
    expect(mapper.map({ tag: 'truncate', relations: [other], cascade: false, restartIdentity: false }, ctx())).toEqual(
      [],
    );
    expect(skipped.map((s) => [s.relation.id, s.table, s.skip])).toEqual([
      [1, 'public.other', 'no-rule'],
      [1, 'public.other', 'no-rule'],
    ]);
  });

  it('publishes what rendered and dead-letters only the templates that could not (REPLICA IDENTITY DEFAULT)', () => {
    // A team move with no old row: {old.team_id} cannot render, user:{id} and the new team can.
    const msg: PgoutputMessage = {
      tag: 'update',
      relation: {
        ...users,
        replicaIdentity: 'd',
        columns: users.columns.map((c) => ({ ...c, isKey: c.name === 'id' })),
      },
      newTuple: tuple({ id: '7', team_id: '2', name: 'a', bio: 'x' }),
    };
    const c = ctx();
    const outs = home.map(msg, c);
    expect(outs.map((o) => o.kind)).toEqual(['event', 'dead-letter']);
    const [event, letter] = outs;
    if (event?.kind !== 'event' || letter?.kind !== 'dead-letter') return;
    expect(event.event.keys).toEqual(['user:7']);
    expect(event.event.tags).toEqual(['team:2:members']);
    expect(event.event.id).toBe('us-east:0/1A2B:0');
    expect(letter.deadLetter.reason).toMatch(/^cannot render tags\[1\] "team:\{old.team_id\}:members" for update/);
    expect(letter.deadLetter.reason).toContain('ALTER TABLE public.users REPLICA IDENTITY FULL');
    expect(letter.deadLetter.table).toBe('public.users');
    // The source change travels with it, so the move can be repeated once the identity is fixed.
    expect(JSON.parse(letter.deadLetter.change).newRow).toMatchObject({ id: '7', team_id: '2' });
    expect(c.index).toBe(2);
  });

  it('turns heartbeat rows into heartbeat outputs', () => {
    const msg: PgoutputMessage = {
      tag: 'update',
      relation: relation('fabric', 'heartbeat', ['id', 'beat_at', 'seq']),
      newTuple: tuple({ id: '1', beat_at: 't', seq: '5' }),
    };
    const [out] = edge.map(msg, ctx());
    expect(out?.kind).toBe('heartbeat');
    expect(out?.kind === 'heartbeat' && out.event.operation).toBe(Operation.HEARTBEAT);
  });

  it('applies a logical message at home and relays it; replicas only apply outbox rows', () => {
    const message: PgoutputMessage = {
      tag: 'message',
      transactional: true,
      lsn: '0/99',
      prefix: 'fabric',
      content: Buffer.from('{"keys":["k1"]}'),
    };
    expect(home.map(message, ctx()).map((o) => o.kind)).toEqual(['event', 'relay']);
    expect(edge.map(message, ctx()).map((o) => o.kind)).toEqual(['event']);
    // What is relayed is what the reader understood, re-serialised (duplicates gone), not the raw text.
    const messy = { ...message, content: Buffer.from('{ "keys": ["k1", "k1"], "tags": ["t"] }') };
    expect(home.map(messy, ctx()).find((o) => o.kind === 'relay')).toMatchObject({
      payload: '{"keys":["k1"],"tags":["t"],"versions":[]}',
    });
    // One that jsonb cannot hold is a dead letter, and is not relayed (the relay's ::jsonb would fail, for ever).
    const nul = { ...message, content: Buffer.from(String.raw`{"keys":["k\u0000"]}`) };
    expect(home.map(nul, ctx()).map((o) => o.kind)).toEqual(['dead-letter']);
    const other: PgoutputMessage = { ...message, prefix: 'someone-else' };
    expect(home.map(other, ctx())).toEqual([]);

    const outbox = relation('fabric', 'outbox', ['id', 'payload', 'relayed_from', 'created_at']);
    const relayed: PgoutputMessage = {
      tag: 'insert',
      relation: outbox,
      newTuple: tuple({ id: '3', payload: '{"keys": ["k1"]}', relayed_from: '0/99', created_at: 't' }),
    };
    expect(home.map(relayed, ctx())).toEqual([]);
    const [applied] = edge.map(relayed, ctx());
    expect(applied?.kind === 'event' && applied.event.keys).toEqual(['k1']);
  });

  it('skips an outbox row only in the region that relayed it, whichever region is home now', () => {
    const outbox = relation('fabric', 'outbox', ['id', 'payload', 'relayed_from', 'created_at']);
    const row = (relayedFrom: string): PgoutputMessage => ({
      tag: 'insert',
      relation: outbox,
      newTuple: tuple({ id: '4', payload: '{"keys": ["k2"]}', relayed_from: relayedFrom, created_at: 't' }),
    });
    expect(home.map(row(relayMark('us-east', '0/99')), ctx())).toEqual([]);
    // After a failover eu-west is home: rows the old home relayed are still news to it.
    const newHome = new ChangeMapper(rules, 'eu-west', true, now);
    expect(newHome.map(row(relayMark('us-east', '0/99')), ctx())[0]?.kind).toBe('event');
    expect(newHome.map(row(relayMark('eu-west', '0/a0')), ctx())).toEqual([]);
  });

  it('does not relay logical messages when the other regions are physical standbys', () => {
    const message: PgoutputMessage = {
      tag: 'message',
      transactional: true,
      lsn: '0/99',
      prefix: 'fabric',
      content: Buffer.from('{"keys": ["k3"]}'),
    };
    const physicalHome = new ChangeMapper(rules, 'us-east', false, now);
    expect(physicalHome.map(message, ctx()).map((o) => o.kind)).toEqual(['event']);
    expect(home.map(message, ctx()).map((o) => o.kind)).toEqual(['event', 'relay']);
  });

  it('dead-letters a bad explicit payload instead of dropping it', () => {
    const message: PgoutputMessage = {
      tag: 'message',
      transactional: true,
      lsn: '0/99',
      prefix: 'fabric',
      content: Buffer.from('{"keys": "nope"}'),
    };
    const outs = home.map(message, ctx());
    expect(outs.map((o) => o.kind)).toEqual(['dead-letter']);
  });
});
