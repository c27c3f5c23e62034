/** Builds pgoutput v1 messages byte by byte, as PostgreSQL sends them, for the decoder tests. */

export class Wire {
  private readonly parts: Buffer[] = [];

  static tag(tag: string): Wire {
    return new Wire().char(tag);
  }

  char(c: string): this {
    this.parts.push(Buffer.from(c, 'latin1'));
    return this;
  }

  u8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeUInt8(v);
    this.parts.push(b);
    return this;
  }

  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }

  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }

  i64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }

  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }

  cstr(s: string): this {
    this.parts.push(Buffer.from(s, 'utf8'), Buffer.from([0]));
    return this;
  }

  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  /** TupleData: 't' text, null -> 'n', undefined -> 'u' (unchanged TOAST), Buffer -> 'b' binary. */
  tuple(values: (string | null | undefined | Buffer)[]): this {
    this.i16(values.length);
    for (const v of values) {
      if (v === null) this.char('n');
      else if (v === undefined) this.char('u');
      else if (Buffer.isBuffer(v)) this.char('b').i32(v.length).bytes(v);
      else {
        const text = Buffer.from(v, 'utf8');
        this.char('t').i32(text.length).bytes(text);
      }
    }
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface WireColumn {
  name: string;
  typeOid: number;
  key?: boolean;
  typmod?: number;
}

export function relationMsg(id: number, schema: string, name: string, identity: string, columns: WireColumn[]): Buffer {
  const w = Wire.tag('R').u32(id).cstr(schema).cstr(name).char(identity).i16(columns.length);
  for (const c of columns)
    w.u8(c.key ? 1 : 0)
      .cstr(c.name)
      .u32(c.typeOid)
      .i32(c.typmod ?? -1);
  return w.build();
}

/** 2000-01-01 in ms since the UNIX epoch. */
export const PG_EPOCH_MS = 946_684_800_000;
