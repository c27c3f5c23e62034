import { describe, expect, it } from 'vitest';
import { isRowMessage, qualifiedName, type Relation, type RowMessage } from '../src/pgoutput/index.js';
import { toRowChange } from '../src/row-change.js';
import type { RowChange } from '../src/rules/index.js';

const full: Relation = {
  id: 1,
  schema: 'public',
  name: 'users',
  replicaIdentity: 'f',
  columns: ['id', 'team_id', 'name', 'bio'].map((name) => ({ name, typeOid: 25, isKey: true })),
};
const keyed: Relation = {
  id: 2,
  schema: 'app',
  name: 'orders',
  replicaIdentity: 'd',
  columns: [
    { name: 'tenant', typeOid: 20, isKey: true },
    { name: 'id', typeOid: 20, isKey: true },
    { name: 'status', typeOid: 25, isKey: false },
  ],
};
const nothing: Relation = {
  id: 3,
  schema: 'public',
  name: 'log',
  replicaIdentity: 'n',
  columns: [{ name: 'line', typeOid: 25, isKey: false }],
};

describe('toRowChange', () => {
  it('maps an insert', () => {
    const msg: RowMessage = {
      tag: 'insert',
      relation: full,
      newTuple: { values: { id: '1', team_id: '7', name: 'Ann', bio: null }, unchangedToast: [] },
    };
    expect(toRowChange(msg)).toEqual<RowChange>({
      kind: 'insert',
      table: 'public.users',
      keyColumns: ['id', 'team_id', 'name', 'bio'],
      newRow: { id: '1', team_id: '7', name: 'Ann', bio: null },
      unchangedToast: [],
    });
  });

  it("maps an update with an 'O' old tuple and an unchanged TOASTed column", () => {
    const msg: RowMessage = {
      tag: 'update',
      relation: full,
      oldKind: 'O',
      oldTuple: { values: { id: '1', team_id: '7', name: 'Ann', bio: 'long' }, unchangedToast: [] },
      newTuple: { values: { id: '1', team_id: '8', name: 'Ann' }, unchangedToast: ['bio'] },
    };
    const change = toRowChange(msg);
    expect(change).toEqual<RowChange>({
      kind: 'update',
      table: 'public.users',
      keyColumns: ['id', 'team_id', 'name', 'bio'],
      oldRow: { id: '1', team_id: '7', name: 'Ann', bio: 'long' },
      newRow: { id: '1', team_id: '8', name: 'Ann' },
      unchangedToast: ['bio'],
    });
    expect(change.newRow).not.toHaveProperty('bio');
  });

  it("keeps ONLY the key columns of a 'K' old tuple (the other NULLs are not real values)", () => {
    const msg: RowMessage = {
      tag: 'update',
      relation: keyed,
      oldKind: 'K',
      oldTuple: { values: { tenant: '5', id: '9', status: null }, unchangedToast: [] },
      newTuple: { values: { tenant: '5', id: '10', status: 'paid' }, unchangedToast: [] },
    };
    const change = toRowChange(msg);
    expect(change.oldRow).toEqual({ tenant: '5', id: '9' });
    expect(change.oldRow).not.toHaveProperty('status');
    expect(change.keyColumns).toEqual(['tenant', 'id']);

    const del: RowMessage = {
      tag: 'delete',
      relation: keyed,
      oldKind: 'K',
      oldTuple: { values: { tenant: '5', id: '10', status: null }, unchangedToast: [] },
    };
    expect(toRowChange(del)).toEqual<RowChange>({
      kind: 'delete',
      table: 'app.orders',
      keyColumns: ['tenant', 'id'],
      oldRow: { tenant: '5', id: '10' },
      unchangedToast: [],
    });
  });

  it('has no oldRow when pgoutput sent no old tuple', () => {
    const msg: RowMessage = {
      tag: 'update',
      relation: keyed,
      newTuple: { values: { tenant: '5', id: '9', status: 'x' }, unchangedToast: [] },
    };
    const change = toRowChange(msg);
    expect(change).not.toHaveProperty('oldRow');
    expect(change).toEqual<RowChange>({
      kind: 'update',
      table: 'app.orders',
      keyColumns: ['tenant', 'id'],
      newRow: { tenant: '5', id: '9', status: 'x' },
      unchangedToast: [],
    });
  });

  it("maps a delete with an 'O' old tuple (REPLICA IDENTITY FULL)", () => {
    const msg: RowMessage = {
      tag: 'delete',
      relation: full,
      oldKind: 'O',
      oldTuple: { values: { id: '1', team_id: null, name: 'A', bio: 'b' }, unchangedToast: [] },
    };
    expect(toRowChange(msg)).toEqual<RowChange>({
      kind: 'delete',
      table: 'public.users',
      keyColumns: ['id', 'team_id', 'name', 'bio'],
      oldRow: { id: '1', team_id: null, name: 'A', bio: 'b' },
      unchangedToast: [],
    });
  });

  it("drops an unchanged-TOAST column from an 'O' old tuple rather than inventing a value", () => {
    const msg: RowMessage = {
      tag: 'delete',
      relation: full,
      oldKind: 'O',
      oldTuple: { values: { id: '1', team_id: null, name: 'A' }, unchangedToast: ['bio'] },
    };
    expect(toRowChange(msg).oldRow).toEqual({ id: '1', team_id: null, name: 'A' });
  });

  it('gives empty keyColumns for REPLICA IDENTITY NOTHING', () => {
    const msg: RowMessage = {
      tag: 'insert',
      relation: nothing,
      newTuple: { values: { line: 'x' }, unchangedToast: [] },
    };
    expect(toRowChange(msg).keyColumns).toEqual([]);
  });

  it('takes an explicit table name and copies (never aliases) the decoded rows', () => {
    const values = { id: '1', team_id: '7', name: 'Ann', bio: null };
    const unchangedToast: string[] = [];
    const msg: RowMessage = { tag: 'insert', relation: full, newTuple: { values, unchangedToast } };
    const change = toRowChange(msg, 'alias.users');
    expect(change.table).toBe('alias.users');
    change.newRow!.name = 'changed';
    change.unchangedToast.push('x');
    expect(values.name).toBe('Ann');
    expect(unchangedToast).toEqual([]);
  });

  it('qualifies names and recognises row messages', () => {
    expect(qualifiedName(keyed)).toBe('app.orders');
    expect(isRowMessage({ tag: 'insert', relation: full, newTuple: { values: {}, unchangedToast: [] } })).toBe(true);
    expect(isRowMessage({ tag: 'truncate', relations: [full], cascade: false, restartIdentity: false })).toBe(false);
    expect(isRowMessage({ tag: 'origin', originLsn: '0/1', name: 'x' })).toBe(false);
  });
});
