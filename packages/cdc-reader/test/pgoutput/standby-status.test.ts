import { describe, expect, it } from 'vitest';
import { ReplicationStreamError, StandbyStatus } from '../../src/pgoutput/index.js';
import { PG_EPOCH_MS } from './wire.js';

function tracker(opts: { statusIntervalMs?: number; heartbeatIntervalMs?: number } = {}) {
  const clock = { now: PG_EPOCH_MS + 1_000_000 };
  const status = new StandbyStatus({ ...opts, now: () => clock.now });
  const sent: Buffer[] = [];
  const send = () => status.send((m) => sent.push(m));
  return { clock, status, sent, send };
}

describe('StandbyStatus', () => {
  it('refuses to confirm past what the server sent, and ignores a lower position', () => {
    const { status } = tracker();
    expect(() => status.confirm('0/10')).toThrow(ReplicationStreamError);
    status.see('0/20');
    status.see('0/18'); // a BEGIN can be lower than the previous COMMIT end: seen stays the highest
    expect(status.seen).toBe('0/20');
    status.confirm('0/20');
    status.confirm('0/8');
    expect(status.confirmed).toBe('0/20');
    expect(() => status.confirm('0/21')).toThrow(/beyond the last position received from the server \(0\/20\)/);
  });

  it('asks for an update on confirm() only once the status interval has passed', () => {
    const { clock, status, send } = tracker({ statusIntervalMs: 1000 });
    status.see('0/100');
    expect(status.confirm('0/10')).toBe(true); // nothing sent yet
    send();
    clock.now += 999;
    expect(status.confirm('0/20')).toBe(false);
    clock.now += 1;
    expect(status.confirm('0/30')).toBe(true);
    expect(status.confirm('0/30')).toBe(false); // no progress
  });

  it('is due on a tick after progress (interval) or after a long silence (heartbeat)', () => {
    const { clock, status, send } = tracker({ statusIntervalMs: 250, heartbeatIntervalMs: 10_000 });
    send();
    expect(status.due()).toBeUndefined();
    status.see('0/40');
    status.confirm('0/40');
    clock.now += 249;
    expect(status.due()).toBeUndefined();
    clock.now += 1;
    expect(status.due()).toBe('interval');
    send();
    clock.now += 9_999;
    expect(status.due()).toBeUndefined();
    clock.now += 1;
    expect(status.due()).toBe('heartbeat');
    expect(status.tickMs).toBe(250);
    expect(new StandbyStatus({ statusIntervalMs: 1, heartbeatIntervalMs: 1 }).tickMs).toBe(50);
  });

  it('sends write = flush = apply = the exact confirmed position with the clock, and records it', () => {
    const { clock, status, sent, send } = tracker();
    status.see('1/19A4B70');
    status.confirm('1/19A4B70');
    expect(send()).toBe('1/19A4B70');
    const [msg] = sent;
    expect(msg!.toString('latin1', 0, 1)).toBe('r');
    for (const offset of [1, 9, 17]) expect(msg!.readBigUInt64BE(offset)).toBe(0x1_019a_4b70n);
    expect(msg!.readBigInt64BE(25)).toBe(BigInt(clock.now - PG_EPOCH_MS) * 1000n);
    expect(msg!.readUInt8(33)).toBe(0);
    expect(status.reported).toBe('1/19A4B70');
    expect(status.updatesSent).toBe(1);
  });

  it('does not count an update the connection could not take', () => {
    const { status } = tracker();
    status.see('0/50');
    status.confirm('0/50');
    expect(() =>
      status.send(() => {
        throw new Error('socket closed');
      }),
    ).toThrow('socket closed');
    expect(status.updatesSent).toBe(0);
    expect(status.reported).toBe('0/0');
    expect(status.due()).toBe('interval'); // still owed
  });
});
