import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ReplicationStream, standbyStatusUpdate, startReplicationSql } from '../../src/pgoutput/index.js';
import { PG_EPOCH_MS } from './wire.js';

describe('startReplicationSql', () => {
  it('requests pgoutput protocol 1 with messages, from the slot position by default', () => {
    expect(startReplicationSql('fabric_cdc', 'fabric_pub')).toBe(
      `START_REPLICATION SLOT "fabric_cdc" LOGICAL 0/0 (proto_version '1', publication_names '"fabric_pub"', messages 'true')`,
    );
    expect(startReplicationSql('s', 'p', '0/00ab')).toContain('LOGICAL 0/AB (');
  });

  it('quotes the publication so case is kept and quotes cannot break out', () => {
    expect(startReplicationSql('s', 'MyPub')).toContain(`publication_names '"MyPub"'`);
    expect(startReplicationSql('s', `a'b"c`)).toContain(`publication_names '"a''b""c"'`);
  });

  it('rejects slot names PostgreSQL would reject', () => {
    for (const bad of ['', 'Upper', 'with-dash', 'a"b', 'x'.repeat(64)])
      expect(() => startReplicationSql(bad, 'p')).toThrow(/invalid replication slot name/);
    expect(() => startReplicationSql('ok', '')).toThrow(/publication/);
    expect(() => startReplicationSql('ok', 'p', 'nope')).toThrow(/invalid LSN/);
  });
});

describe('standbyStatusUpdate', () => {
  it("lays out 'r', write, flush, apply, clock (µs since 2000-01-01) and the reply flag", () => {
    const now = PG_EPOCH_MS + 1234;
    const buf = standbyStatusUpdate(0x1_0000_0010n, 0x1_0000_0008n, 0x1_0000_0004n, now, true);
    expect(buf.length).toBe(34);
    expect(buf.toString('latin1', 0, 1)).toBe('r');
    expect(buf.readBigUInt64BE(1)).toBe(0x1_0000_0010n);
    expect(buf.readBigUInt64BE(9)).toBe(0x1_0000_0008n);
    expect(buf.readBigUInt64BE(17)).toBe(0x1_0000_0004n);
    expect(buf.readBigInt64BE(25)).toBe(1_234_000n);
    expect(buf.readUInt8(33)).toBe(1);
    expect(standbyStatusUpdate(0n, 0n, 0n, now).readUInt8(33)).toBe(0);
  });

  it('sends the exact position, never position + 1', () => {
    const buf = standbyStatusUpdate(0x19a4b70n, 0x19a4b70n, 0x19a4b70n, Date.now());
    expect(buf.readBigUInt64BE(9)).toBe(0x19a4b70n);
  });
});

describe('ReplicationStream (no server)', () => {
  const logger = pino({ level: 'silent' });

  it('validates its options up front', () => {
    expect(
      () => new ReplicationStream({ connectionString: 'postgres://x', slot: 'Bad-Slot', publication: 'p', logger }),
    ).toThrow(/slot name/);
  });

  it('refuses to confirm a position the server has not sent yet', () => {
    const s = new ReplicationStream({ connectionString: 'postgres://x', slot: 's', publication: 'p', logger });
    expect(() => s.confirm('0/1')).toThrow(/beyond the last position received/);
    expect(() => s.confirm('junk')).toThrow(/invalid LSN/);
    expect(s.confirmedLsn).toBe('0/0');
  });

  it('stop() before start() just closes', async () => {
    const s = new ReplicationStream({ connectionString: 'postgres://x', slot: 's', publication: 'p', logger });
    await s.stop();
    expect(await s.closed).toBeUndefined();
    await expect(s.start(() => undefined)).rejects.toThrow(/single-use/);
  });

  it('start() rejects and closed reports the error when the server cannot be reached', async () => {
    const s = new ReplicationStream({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      slot: 's',
      publication: 'p',
      logger,
    });
    await expect(s.start(() => undefined)).rejects.toThrow(/ECONNREFUSED|connect/);
    expect(await s.closed).toBeInstanceOf(Error);
    expect(s.stats().state).toBe('closed');
  });
});
