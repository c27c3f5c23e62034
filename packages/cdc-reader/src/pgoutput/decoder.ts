/**
 * Decoder for pgoutput protocol version 1 (the payload of XLogData messages on a logical
 * replication connection started with proto_version '1'). Pure: no connection, no pg types.
 * Values stay as the text PostgreSQL sent.
 */

import { type Lsn, lsnFromHalves } from '@fabric/contracts';
import { DecodeError } from './errors.js';
import {
  type Column,
  type OldTupleKind,
  PG_EPOCH_UNIX_MICROS,
  type PgoutputMessage,
  type Relation,
  type ReplicaIdentity,
  type Tuple,
} from './messages.js';

const TAG_NAMES: Record<string, string> = {
  B: 'BEGIN',
  C: 'COMMIT',
  O: 'ORIGIN',
  R: 'RELATION',
  Y: 'TYPE',
  I: 'INSERT',
  U: 'UPDATE',
  D: 'DELETE',
  T: 'TRUNCATE',
  M: 'MESSAGE',
};

/** Bounds-checked big-endian reader over one message. */
class Reader {
  private pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly tag: string,
  ) {}

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new DecodeError(
        'truncated',
        `${TAG_NAMES[this.tag] ?? this.tag} message truncated: needed ${n} byte(s) for ${what} at offset ${this.pos}, message is ${this.buf.length} bytes`,
        this.tag,
      );
    }
  }

  uint8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }

  int16(what: string): number {
    this.need(2, what);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int32(what: string): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(what: string): bigint {
    this.need(8, what);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  lsn(what: string): Lsn {
    this.need(8, what);
    const lsn = lsnFromHalves(this.buf.readUInt32BE(this.pos), this.buf.readUInt32BE(this.pos + 4));
    this.pos += 8;
    return lsn;
  }

  char(what: string): string {
    return String.fromCharCode(this.uint8(what));
  }

  /** NUL-terminated string. */
  cstring(what: string): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) {
      throw new DecodeError(
        'truncated',
        `${TAG_NAMES[this.tag] ?? this.tag} message truncated: unterminated string for ${what} at offset ${this.pos}`,
        this.tag,
      );
    }
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  /** A copy (never a view: the connection reuses its receive buffer). */
  bytes(n: number, what: string): Buffer {
    if (n < 0) throw new DecodeError('malformed', `negative length ${n} for ${what}`, this.tag);
    this.need(n, what);
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  text(n: number, what: string): string {
    if (n < 0) throw new DecodeError('malformed', `negative length ${n} for ${what}`, this.tag);
    this.need(n, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  hex(n: number, what: string): string {
    if (n < 0) throw new DecodeError('malformed', `negative length ${n} for ${what}`, this.tag);
    this.need(n, what);
    const s = this.buf.toString('hex', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }
}

function timestamp(pgMicros: bigint): { commitTime: Date; commitTimeMicros: bigint } {
  const unixMicros = pgMicros + PG_EPOCH_UNIX_MICROS;
  // Floor division for the (theoretical) negative case so the Date never rounds up past the micros.
  const ms = unixMicros >= 0n ? unixMicros / 1000n : -((-unixMicros + 999n) / 1000n);
  return { commitTime: new Date(Number(ms)), commitTimeMicros: unixMicros };
}

const IDENTITIES = new Set<string>(['d', 'n', 'f', 'i']);

export class PgoutputDecoder {
  private readonly relations = new Map<number, Relation>();

  /** The cached RELATION for an oid (the latest one the server sent), if any. */
  relation(id: number): Relation | undefined {
    return this.relations.get(id);
  }

  /** Decodes one pgoutput message (the XLogData payload, starting with the tag byte). */
  decode(buf: Buffer): PgoutputMessage {
    if (buf.length === 0) throw new DecodeError('truncated', 'empty pgoutput message');
    const tag = String.fromCharCode(buf[0]!);
    const r = new Reader(buf.subarray(1), tag);
    switch (tag) {
      case 'B': {
        const finalLsn = r.lsn('final LSN');
        const ts = timestamp(r.int64('commit timestamp'));
        const xid = r.uint32('xid');
        return { tag: 'begin', finalLsn, ...ts, xid };
      }
      case 'C': {
        const flags = r.uint8('flags');
        const commitLsn = r.lsn('commit LSN');
        const endLsn = r.lsn('end LSN');
        const ts = timestamp(r.int64('commit timestamp'));
        return { tag: 'commit', flags, commitLsn, endLsn, ...ts };
      }
      case 'O': {
        const originLsn = r.lsn('origin LSN');
        const name = r.cstring('origin name');
        return { tag: 'origin', originLsn, name };
      }
      case 'R':
        return this.decodeRelation(r);
      case 'Y': {
        const typeOid = r.uint32('type oid');
        const schema = r.cstring('type namespace') || 'pg_catalog';
        const name = r.cstring('type name');
        return { tag: 'type', typeOid, schema, name };
      }
      case 'I': {
        const relation = this.lookup(r.uint32('relation oid'), tag);
        const kind = r.char('tuple kind');
        if (kind !== 'N')
          throw new DecodeError(
            'malformed',
            `INSERT into ${qualified(relation)}: expected new tuple 'N', got ${JSON.stringify(kind)}`,
            tag,
          );
        return { tag: 'insert', relation, newTuple: this.decodeTuple(r, relation, 'new') };
      }
      case 'U': {
        const relation = this.lookup(r.uint32('relation oid'), tag);
        let kind = r.char('tuple kind');
        let oldKind: OldTupleKind | undefined;
        let oldTuple: Tuple | undefined;
        if (kind === 'K' || kind === 'O') {
          oldKind = kind;
          oldTuple = this.decodeTuple(r, relation, 'old');
          kind = r.char('tuple kind');
        }
        if (kind !== 'N')
          throw new DecodeError(
            'malformed',
            `UPDATE of ${qualified(relation)}: expected new tuple 'N', got ${JSON.stringify(kind)}`,
            tag,
          );
        const newTuple = this.decodeTuple(r, relation, 'new');
        return oldKind
          ? { tag: 'update', relation, oldKind, oldTuple: oldTuple!, newTuple }
          : { tag: 'update', relation, newTuple };
      }
      case 'D': {
        const relation = this.lookup(r.uint32('relation oid'), tag);
        const kind = r.char('tuple kind');
        if (kind !== 'K' && kind !== 'O') {
          throw new DecodeError(
            'malformed',
            `DELETE from ${qualified(relation)}: expected old tuple 'K' or 'O', got ${JSON.stringify(kind)}`,
            tag,
          );
        }
        return { tag: 'delete', relation, oldKind: kind, oldTuple: this.decodeTuple(r, relation, 'old') };
      }
      case 'T': {
        const n = r.uint32('relation count');
        const options = r.uint8('options');
        const relations: Relation[] = [];
        for (let i = 0; i < n; i++) relations.push(this.lookup(r.uint32('relation oid'), tag));
        return { tag: 'truncate', relations, cascade: (options & 1) !== 0, restartIdentity: (options & 2) !== 0 };
      }
      case 'M': {
        const flags = r.uint8('flags');
        const lsn = r.lsn('message LSN');
        const prefix = r.cstring('prefix');
        const len = r.uint32('content length');
        const content = r.bytes(len, 'content');
        return { tag: 'message', transactional: (flags & 1) !== 0, lsn, prefix, content };
      }
      default:
        throw new DecodeError(
          'unknown-tag',
          `unknown pgoutput message tag ${JSON.stringify(tag)} (0x${buf[0]!.toString(16).padStart(2, '0')}); only protocol version 1 is supported`,
          tag,
        );
    }
  }

  private decodeRelation(r: Reader): PgoutputMessage {
    const id = r.uint32('relation oid');
    const schema = r.cstring('namespace') || 'pg_catalog';
    const name = r.cstring('relation name');
    const identity = r.char('replica identity');
    if (!IDENTITIES.has(identity)) {
      throw new DecodeError(
        'malformed',
        `RELATION ${schema}.${name}: unknown replica identity ${JSON.stringify(identity)}`,
        'R',
      );
    }
    const ncols = r.int16('column count');
    if (ncols < 0)
      throw new DecodeError('malformed', `RELATION ${schema}.${name}: negative column count ${ncols}`, 'R');
    const columns: Column[] = [];
    for (let i = 0; i < ncols; i++) {
      const flags = r.uint8('column flags');
      const colName = r.cstring('column name');
      const typeOid = r.uint32('column type oid');
      r.int32('column type modifier');
      columns.push({ name: colName, typeOid, isKey: (flags & 1) !== 0 });
    }
    const relation: Relation = { id, schema, name, replicaIdentity: identity as ReplicaIdentity, columns };
    // A RELATION re-sent after ALTER TABLE (or on a new connection) replaces the entry.
    this.relations.set(id, relation);
    return { tag: 'relation', relation };
  }

  private lookup(id: number, tag: string): Relation {
    const relation = this.relations.get(id);
    if (!relation) {
      throw new DecodeError(
        'unknown-relation',
        `${TAG_NAMES[tag] ?? tag} refers to relation oid ${id}, but no RELATION message for it was received on this stream`,
        tag,
      );
    }
    return relation;
  }

  private decodeTuple(r: Reader, relation: Relation, which: 'old' | 'new'): Tuple {
    const ncols = r.int16('tuple column count');
    if (ncols !== relation.columns.length) {
      throw new DecodeError(
        'malformed',
        `${which} tuple of ${qualified(relation)} has ${ncols} column(s) but its RELATION message has ${relation.columns.length}`,
      );
    }
    const values: Record<string, string | null> = {};
    const unchangedToast: string[] = [];
    for (const column of relation.columns) {
      const kind = r.char(`column ${column.name}`);
      switch (kind) {
        case 'n':
          values[column.name] = null;
          break;
        case 'u':
          unchangedToast.push(column.name);
          break;
        case 't': {
          const len = r.int32(`length of ${column.name}`);
          values[column.name] = r.text(len, `value of ${column.name}`);
          break;
        }
        case 'b': {
          // Only with binary 'true', which this reader never requests; keep it lossless as bytea-style hex.
          const len = r.int32(`length of ${column.name}`);
          values[column.name] = `\\x${r.hex(len, `value of ${column.name}`)}`;
          break;
        }
        default:
          throw new DecodeError(
            'malformed',
            `${which} tuple of ${qualified(relation)}: unknown column kind ${JSON.stringify(kind)} for ${column.name}`,
          );
      }
    }
    return { values, unchangedToast };
  }
}

function qualified(relation: Relation): string {
  return `${relation.schema}.${relation.name}`;
}
