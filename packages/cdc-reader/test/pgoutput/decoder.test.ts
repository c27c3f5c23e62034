import { describe, expect, it } from 'vitest';
import { DecodeError, PgoutputDecoder, type PgoutputMessage, type Relation } from '../../src/pgoutput/index.js';
import { PG_EPOCH_MS, relationMsg, Wire } from './wire.js';

const USERS = relationMsg(16386, 'public', 'users', 'f', [
  { name: 'id', typeOid: 20, key: true },
  { name: 'name', typeOid: 25, key: true },
  { name: 'bio', typeOid: 25, key: true },
]);
const KEYED = relationMsg(16400, 'app', 'keyed', 'd', [
  { name: 'id', typeOid: 20, key: true },
  { name: 'label', typeOid: 25 },
  { name: 'note', typeOid: 25 },
]);

function decoderWith(...relations: Buffer[]): PgoutputDecoder {
  const d = new PgoutputDecoder();
  for (const r of relations) d.decode(r);
  return d;
}

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return err as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

describe('PgoutputDecoder', () => {
  it('decodes BEGIN: final LSN, commit time (µs since 2000-01-01), xid', () => {
    // 2024-08-17T11:37:36.789012Z as PostgreSQL sends it: µs since 2000-01-01.
    const micros = BigInt(Date.UTC(2024, 7, 17, 11, 37, 36, 789) - PG_EPOCH_MS) * 1000n + 12n;
    const msg = new PgoutputDecoder().decode(Wire.tag('B').u64(0x1_0000_00a0n).i64(micros).u32(0xfffffff0).build());
    expect(msg).toEqual({
      tag: 'begin',
      finalLsn: '1/A0',
      commitTime: new Date('2024-08-17T11:37:36.789Z'),
      commitTimeMicros: BigInt(Date.UTC(2024, 7, 17, 11, 37, 36, 789)) * 1000n + 12n,
      xid: 0xfffffff0,
    });
    if (msg.tag !== 'begin') throw new Error();
    expect(msg.commitTime.toISOString()).toBe('2024-08-17T11:37:36.789Z');
  });

  it('decodes a commit time before 2000 (negative on the wire)', () => {
    const msg = new PgoutputDecoder().decode(Wire.tag('B').u64(1n).i64(-1_500n).u32(1).build());
    expect(msg).toMatchObject({ commitTime: new Date(PG_EPOCH_MS - 2), commitTimeMicros: 946_684_799_998_500n });
  });

  it('decodes COMMIT: flags, commit LSN, end LSN, time', () => {
    const msg = new PgoutputDecoder().decode(Wire.tag('C').u8(0).u64(0x19a49c8n).u64(0x19a49f8n).i64(0n).build());
    expect(msg).toEqual({
      tag: 'commit',
      flags: 0,
      commitLsn: '0/19A49C8',
      endLsn: '0/19A49F8',
      commitTime: new Date(PG_EPOCH_MS),
      commitTimeMicros: 946_684_800_000_000n,
    });
  });

  it('decodes ORIGIN', () => {
    expect(new PgoutputDecoder().decode(Wire.tag('O').u64(0x2_0000_0010n).cstr('pg_16390').build())).toEqual({
      tag: 'origin',
      originLsn: '2/10',
      name: 'pg_16390',
    });
  });

  it('decodes RELATION with key flags and replica identity, and maps "" to pg_catalog', () => {
    const d = new PgoutputDecoder();
    expect(d.decode(KEYED)).toEqual({
      tag: 'relation',
      relation: {
        id: 16400,
        schema: 'app',
        name: 'keyed',
        replicaIdentity: 'd',
        columns: [
          { name: 'id', typeOid: 20, isKey: true },
          { name: 'label', typeOid: 25, isKey: false },
          { name: 'note', typeOid: 25, isKey: false },
        ],
      },
    });
    for (const identity of ['d', 'n', 'f', 'i'] as const) {
      const msg = d.decode(relationMsg(1, 'public', 't', identity, []));
      expect(msg.tag === 'relation' && msg.relation.replicaIdentity).toBe(identity);
    }
    const cat = d.decode(relationMsg(2, '', 'pg_thing', 'n', [{ name: 'x', typeOid: 23, typmod: 4 }]));
    expect(cat).toMatchObject({
      relation: { schema: 'pg_catalog', name: 'pg_thing', columns: [{ name: 'x', typeOid: 23, isKey: false }] },
    });
    expect(d.relation(16400)?.name).toBe('keyed');
  });

  it('rejects an unknown replica identity', () => {
    expect(decodeError(() => new PgoutputDecoder().decode(relationMsg(1, 'public', 't', 'x', []))).message).toMatch(
      /replica identity "x"/,
    );
  });

  it('decodes TYPE', () => {
    expect(new PgoutputDecoder().decode(Wire.tag('Y').u32(16500).cstr('public').cstr('mood').build())).toEqual({
      tag: 'type',
      typeOid: 16500,
      schema: 'public',
      name: 'mood',
    });
    expect(new PgoutputDecoder().decode(Wire.tag('Y').u32(1).cstr('').cstr('x').build())).toMatchObject({
      schema: 'pg_catalog',
    });
  });

  it("decodes INSERT: text values verbatim, 'n' as null, 'b' as \\x hex", () => {
    const d = decoderWith(USERS);
    const msg = d.decode(
      Wire.tag('I')
        .u32(16386)
        .char('N')
        .tuple(['42', null, Buffer.from([0x00, 0xff, 0x10])])
        .build(),
    );
    expect(msg).toEqual({
      tag: 'insert',
      relation: d.relation(16386),
      newTuple: { values: { id: '42', name: null, bio: '\\x00ff10' }, unchangedToast: [] },
    });
  });

  it('keeps text exactly: empty string vs NULL, multi-byte UTF-8, numbers and dates unparsed', () => {
    const d = decoderWith(USERS);
    const msg = d.decode(Wire.tag('I').u32(16386).char('N').tuple(['00012.50', '', 'é ☃ 😀\n"\'\\']).build());
    expect(msg.tag === 'insert' && msg.newTuple.values).toEqual({ id: '00012.50', name: '', bio: 'é ☃ 😀\n"\'\\' });
  });

  it("leaves 'u' (unchanged TOAST) columns out of values and lists them", () => {
    const d = decoderWith(USERS);
    const msg = d.decode(Wire.tag('U').u32(16386).char('N').tuple(['42', 'Ann', undefined]).build());
    expect(msg).toEqual({
      tag: 'update',
      relation: d.relation(16386),
      newTuple: { values: { id: '42', name: 'Ann' }, unchangedToast: ['bio'] },
    });
    expect(msg.tag === 'update' && 'bio' in msg.newTuple.values).toBe(false);
  });

  it('decodes UPDATE without an old tuple', () => {
    const msg = decoderWith(KEYED).decode(Wire.tag('U').u32(16400).char('N').tuple(['1', 'l2', 'n']).build());
    expect(msg).toMatchObject({ tag: 'update', newTuple: { values: { id: '1', label: 'l2', note: 'n' } } });
    expect(msg).not.toHaveProperty('oldKind');
    expect(msg).not.toHaveProperty('oldTuple');
  });

  it("decodes UPDATE with a key ('K') old tuple", () => {
    const msg = decoderWith(KEYED).decode(
      Wire.tag('U').u32(16400).char('K').tuple(['1', null, null]).char('N').tuple(['2', 'l', null]).build(),
    );
    expect(msg).toMatchObject({
      tag: 'update',
      oldKind: 'K',
      oldTuple: { values: { id: '1', label: null, note: null }, unchangedToast: [] },
      newTuple: { values: { id: '2', label: 'l', note: null }, unchangedToast: [] },
    });
  });

  it("decodes UPDATE with a full ('O') old tuple", () => {
    const msg = decoderWith(USERS).decode(
      Wire.tag('U')
        .u32(16386)
        .char('O')
        .tuple(['42', 'Ann', 'long bio'])
        .char('N')
        .tuple(['42', 'Anne', undefined])
        .build(),
    );
    expect(msg).toMatchObject({
      tag: 'update',
      oldKind: 'O',
      oldTuple: { values: { id: '42', name: 'Ann', bio: 'long bio' }, unchangedToast: [] },
      newTuple: { values: { id: '42', name: 'Anne' }, unchangedToast: ['bio'] },
    });
  });

  it("decodes DELETE with 'K' and 'O' old tuples", () => {
    const d = decoderWith(KEYED, USERS);
    expect(d.decode(Wire.tag('D').u32(16400).char('K').tuple(['7', null, null]).build())).toEqual({
      tag: 'delete',
      relation: d.relation(16400),
      oldKind: 'K',
      oldTuple: { values: { id: '7', label: null, note: null }, unchangedToast: [] },
    });
    expect(d.decode(Wire.tag('D').u32(16386).char('O').tuple(['42', 'Ann', null]).build())).toMatchObject({
      tag: 'delete',
      oldKind: 'O',
      oldTuple: { values: { id: '42', name: 'Ann', bio: null } },
    });
  });

  it('rejects a DELETE without an old tuple kind and an INSERT without N', () => {
    const d = decoderWith(KEYED);
    expect(decodeError(() => d.decode(Wire.tag('D').u32(16400).char('N').tuple(['7', null, null]).build())).code).toBe(
      'malformed',
    );
    expect(decodeError(() => d.decode(Wire.tag('I').u32(16400).char('K').tuple(['7', null, null]).build())).code).toBe(
      'malformed',
    );
  });

  it('decodes TRUNCATE with every combination of its flags', () => {
    const d = decoderWith(KEYED, USERS);
    const cases: [number, boolean, boolean][] = [
      [0, false, false],
      [1, true, false],
      [2, false, true],
      [3, true, true],
    ];
    for (const [options, cascade, restartIdentity] of cases) {
      const msg = d.decode(Wire.tag('T').u32(2).u8(options).u32(16400).u32(16386).build());
      expect(msg).toEqual({
        tag: 'truncate',
        relations: [d.relation(16400), d.relation(16386)],
        cascade,
        restartIdentity,
      });
    }
  });

  it('decodes transactional and non-transactional MESSAGE, content as a copy', () => {
    const d = new PgoutputDecoder();
    const raw = Wire.tag('M').u8(1).u64(0x1a2b3cn).cstr('fabric').u32(14).bytes(Buffer.from('{"keys":["a"]}')).build();
    const msg = d.decode(raw);
    expect(msg).toEqual({
      tag: 'message',
      transactional: true,
      lsn: '0/1A2B3C',
      prefix: 'fabric',
      content: Buffer.from('{"keys":["a"]}'),
    });
    raw.fill(0); // the connection reuses its receive buffer
    expect(msg.tag === 'message' && msg.content.toString()).toBe('{"keys":["a"]}');

    const nontx = d.decode(Wire.tag('M').u8(0).u64(5n).cstr('other').u32(0).build());
    expect(nontx).toEqual({
      tag: 'message',
      transactional: false,
      lsn: '0/5',
      prefix: 'other',
      content: Buffer.alloc(0),
    });
  });

  it('replaces the cached relation when RELATION is re-sent (after ALTER TABLE)', () => {
    const d = decoderWith(KEYED);
    const before = d.relation(16400)!;
    d.decode(
      relationMsg(16400, 'app', 'keyed_renamed', 'f', [
        { name: 'id', typeOid: 20, key: true },
        { name: 'label', typeOid: 25, key: true },
        { name: 'note', typeOid: 25, key: true },
        { name: 'extra', typeOid: 23, key: true },
      ]),
    );
    const msg = d.decode(Wire.tag('I').u32(16400).char('N').tuple(['1', 'a', null, '5']).build());
    expect(msg).toMatchObject({
      relation: { name: 'keyed_renamed', replicaIdentity: 'f' },
      newTuple: { values: { id: '1', label: 'a', note: null, extra: '5' } },
    });
    // Messages decoded before keep the relation they were decoded with.
    expect(before.columns).toHaveLength(3);
    // The old shape no longer decodes.
    expect(
      decodeError(() => d.decode(Wire.tag('I').u32(16400).char('N').tuple(['1', 'a', null]).build())).message,
    ).toMatch(/3 column\(s\) but its RELATION message has 4/);
  });

  it('fails with a typed error for an unknown relation id', () => {
    const d = decoderWith(KEYED);
    for (const buf of [
      Wire.tag('I').u32(999).char('N').tuple(['1']).build(),
      Wire.tag('U').u32(999).char('N').tuple(['1']).build(),
      Wire.tag('D').u32(999).char('K').tuple(['1']).build(),
      Wire.tag('T').u32(2).u8(0).u32(16400).u32(999).build(),
    ]) {
      const err = decodeError(() => d.decode(buf));
      expect(err.code).toBe('unknown-relation');
      expect(err.message).toMatch(/relation oid 999/);
    }
  });

  it('fails with a typed error for an unknown tag (e.g. protocol v2 stream messages)', () => {
    const err = decodeError(() => new PgoutputDecoder().decode(Wire.tag('S').u32(1).u8(1).build()));
    expect(err).toMatchObject({ code: 'unknown-tag', tag: 'S', name: 'DecodeError' });
    expect(err.message).toMatch(/unknown pgoutput message tag "S" \(0x53\)/);
    expect(decodeError(() => new PgoutputDecoder().decode(Buffer.alloc(0))).code).toBe('truncated');
  });

  it('fails with a typed error on truncated messages, never reading past the end', () => {
    const full = [
      Wire.tag('B').u64(1n).i64(2n).u32(3).build(),
      Wire.tag('C').u8(0).u64(1n).u64(2n).i64(3n).build(),
      Wire.tag('O').u64(1n).cstr('x').build(),
      Wire.tag('M').u8(1).u64(1n).cstr('p').u32(3).bytes(Buffer.from('abc')).build(),
      USERS,
    ];
    for (const buf of full) {
      for (let n = 1; n < buf.length; n++) {
        const err = decodeError(() => new PgoutputDecoder().decode(buf.subarray(0, n)));
        expect(err.code).toBe('truncated');
      }
    }
    const d = decoderWith(USERS);
    const insert = Wire.tag('I').u32(16386).char('N').tuple(['42', 'Ann', 'bio']).build();
    for (let n = 1; n < insert.length; n++) expect(() => d.decode(insert.subarray(0, n))).toThrow(DecodeError);
  });

  it('rejects an unknown column kind in a tuple', () => {
    const d = decoderWith(KEYED);
    const buf = Wire.tag('I')
      .u32(16400)
      .char('N')
      .i16(3)
      .char('t')
      .i32(1)
      .bytes(Buffer.from('1'))
      .char('x')
      .char('n')
      .build();
    expect(decodeError(() => d.decode(buf)).message).toMatch(/unknown column kind "x" for label/);
  });

  it('decodes a whole transaction in order', () => {
    const d = new PgoutputDecoder();
    const tags = [
      Wire.tag('B').u64(0x100n).i64(0n).u32(1).build(),
      KEYED,
      Wire.tag('I').u32(16400).char('N').tuple(['1', 'a', null]).build(),
      Wire.tag('M').u8(1).u64(0xf0n).cstr('fabric').u32(2).bytes(Buffer.from('{}')).build(),
      Wire.tag('C').u8(0).u64(0x100n).u64(0x130n).i64(0n).build(),
    ].map((b) => d.decode(b).tag);
    expect(tags).toEqual<PgoutputMessage['tag'][]>(['begin', 'relation', 'insert', 'message', 'commit']);
  });

  it('decodes relations independently per decoder instance', () => {
    const a = decoderWith(KEYED);
    const b = new PgoutputDecoder();
    expect(a.relation(16400)).toBeDefined();
    expect(b.relation(16400)).toBeUndefined();
    const rel: Relation | undefined = a.relation(16400);
    expect(rel?.schema).toBe('app');
  });
});
