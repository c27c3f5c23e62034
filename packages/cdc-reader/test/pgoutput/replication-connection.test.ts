import { EventEmitter } from 'node:events';
import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createReplicationService,
  missingPgInternals,
  ReplicationConnection,
  type ReplicationEvents,
} from '../../src/pgoutput/replication-connection.js';

/**
 * The adapter is the one place that relies on pg-logical-replication's and pg's internals.
 * These tests fail when either library changes the shape the adapter depends on, without a
 * server: the internals on real instances, and the library's own subscribe() driven over a
 * fake connection. test/cdc/pgoutput.test.ts covers the same against PostgreSQL.
 */

const logger = pino({ level: 'silent' });

describe('the library internals the adapter needs', () => {
  it('are all present on a real pg.Client', () => {
    const client = new pg.Client({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    expect(missingPgInternals(client)).toEqual([]);
  });

  it('are reported by name when missing', () => {
    expect(missingPgInternals({} as pg.Client)).toEqual(['Client.connection']);
    const partial = { connection: { sendCopyFromChunk() {}, stream: {} } } as unknown as pg.Client;
    expect(missingPgInternals(partial)).toEqual(['Connection.endCopyFrom', 'Connection.stream.resume']);
  });

  it('include the service methods the adapter calls and the connection factory this test replaces', () => {
    const service = createReplicationService('postgres://nobody@127.0.0.1:1/none');
    for (const method of ['subscribe', 'destroy', 'on', 'client'])
      expect(typeof (service as unknown as Record<string, unknown>)[method], method).toBe('function');
  });
});

/** pg's Client and Connection as far as the library and the adapter touch them. */
function fakePg() {
  const written: Buffer[] = [];
  const calls: string[] = [];
  const connection = Object.assign(new EventEmitter(), {
    sendCopyFromChunk: (chunk: Buffer) => written.push(chunk),
    endCopyFrom: () => calls.push('endCopyFrom'),
    stream: { pause: () => calls.push('pause'), resume: () => calls.push('resume') },
  });
  let endReplication!: () => void;
  const client = Object.assign(new EventEmitter(), {
    connection,
    queries: [] as string[],
    query(sql: string) {
      client.queries.push(sql);
      return new Promise<void>((resolve) => (endReplication = resolve));
    },
    end: async () => void calls.push('end'),
  });
  return { client, connection, written, calls, endReplication: () => endReplication() };
}

function xLogData(start: bigint, payload: string): Buffer {
  const buf = Buffer.alloc(25 + payload.length);
  buf.write('w', 0, 'latin1');
  buf.writeBigUInt64BE(start, 1);
  buf.writeBigUInt64BE(start, 9);
  buf.write(payload, 25, 'latin1');
  return buf;
}

function keepalive(walEnd: bigint, replyRequested: boolean): Buffer {
  const buf = Buffer.alloc(18);
  buf.write('k', 0, 'latin1');
  buf.writeBigUInt64BE(walEnd, 1);
  buf.writeUInt8(replyRequested ? 1 : 0, 17);
  return buf;
}

describe('ReplicationConnection over the real library and a fake connection', () => {
  it('starts with our SQL, delivers data in order and keepalives, writes our chunks and ends the COPY', async () => {
    const fake = fakePg();
    const service = createReplicationService('postgres://unused');
    // The library's own connection factory, replaced so no server is needed.
    (service as unknown as { client: () => Promise<unknown> }).client = async () => [fake.client, fake.connection];
    const seen: string[] = [];
    let release!: () => void;
    const events: ReplicationEvents<string> = {
      parse: (payload) => payload.toString('latin1'),
      started: () => seen.push('started'),
      data: async (lsn, parsed) => {
        seen.push(`data ${lsn} ${parsed}`);
        if (parsed === 'slow') await new Promise<void>((resolve) => (release = resolve));
      },
      keepalive: (walEnd, replyRequested) => seen.push(`keepalive ${walEnd} ${replyRequested}`),
      error: (err) => seen.push(`error ${err.message}`),
    };
    const conn = new ReplicationConnection({
      connectionString: 'postgres://unused',
      slot: 'fabric_cdc',
      startSql: 'START_REPLICATION SLOT "fabric_cdc" LOGICAL 0/0',
      logger,
      events,
      service,
    });
    const ended = conn.open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.client.queries).toEqual(['START_REPLICATION SLOT "fabric_cdc" LOGICAL 0/0']);

    fake.connection.emit('replicationStart');
    fake.connection.emit('copyData', { chunk: xLogData(0x1_0000_0010n, 'slow') });
    fake.connection.emit('copyData', { chunk: xLogData(0x1_0000_0020n, 'next') });
    fake.connection.emit('copyData', { chunk: keepalive(0x1_0000_0030n, true) });
    await new Promise((resolve) => setImmediate(resolve));
    // Flow control: the second message waits for the first handler; keepalives do not.
    expect(seen).toEqual(['started', 'data 1/10 slow', 'keepalive 1/30 true']);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['started', 'data 1/10 slow', 'keepalive 1/30 true', 'data 1/20 next']);

    conn.sendCopyData(Buffer.from('r-status'));
    expect(fake.written.map((b) => b.toString())).toEqual(['r-status']);
    conn.endCopy();
    expect(fake.calls.slice(-2)).toEqual(['endCopyFrom', 'resume']);
    fake.endReplication();
    expect(await ended).toBeUndefined();
    await conn.destroy();
    expect(seen.some((s) => s.startsWith('error'))).toBe(false);
  });

  it('refuses to start, naming what is missing, when pg lacks an internal it writes to', async () => {
    const fake = fakePg();
    const broken = Object.assign(fake.client, { connection: { ...fake.connection, endCopyFrom: undefined } });
    const service = createReplicationService('postgres://unused');
    (service as unknown as { client: () => Promise<unknown> }).client = async () => [broken, fake.connection];
    const conn = new ReplicationConnection<string>({
      connectionString: 'postgres://unused',
      slot: 's',
      startSql: 'START_REPLICATION',
      logger,
      events: { parse: String, started() {}, data: async () => {}, keepalive() {}, error() {} },
      service,
    });
    const err = await conn.open();
    expect(err?.message).toMatch(/Connection\.endCopyFrom/);
    expect(fake.client.queries).toEqual([]);
  });

  it('settles with the error when the connection cannot be made', async () => {
    const conn = new ReplicationConnection<string>({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      slot: 's',
      startSql: 'START_REPLICATION',
      logger,
      events: { parse: String, started() {}, data: async () => {}, keepalive() {}, error() {} },
    });
    expect((await conn.open())?.message).toMatch(/ECONNREFUSED|connect/);
    await conn.destroy();
  });
});
