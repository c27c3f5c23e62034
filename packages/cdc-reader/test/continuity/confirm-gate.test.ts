import { describe, expect, it } from 'vitest';
import { ConfirmGate } from '../../src/continuity/confirm-gate.js';

/**
 * A gate whose record writes the test resolves or fails by hand, on the test's clock: a
 * wait for the interval is held until the clock is moved past it.
 */
function harness(minIntervalMs = 0) {
  const writes: Array<{ lsn: string; resolve: () => void; reject: (e: Error) => void }> = [];
  const confirmed: string[] = [];
  const errors: unknown[] = [];
  const sleeps: number[] = [];
  let wake: (() => void) | undefined;
  let now = 1_000;
  const gate = new ConfirmGate(
    {
      record: (lsn) => new Promise<void>((resolve, reject) => writes.push({ lsn, resolve, reject })),
      confirm: (lsn) => void confirmed.push(lsn),
      onError: (err) => void errors.push(err),
      minIntervalMs,
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise<void>((resolve) => (wake = resolve));
      },
    },
    () => now,
  );
  const settle = () => new Promise((r) => setImmediate(r));
  const tick = (ms: number) => {
    now += ms;
    wake?.();
    wake = undefined;
  };
  return { gate, writes, confirmed, errors, sleeps, settle, tick };
}

describe('ConfirmGate', () => {
  it('confirms the slot only after the record holds the position', async () => {
    const h = harness();
    h.gate.offer('0/10');
    await h.settle();
    expect(h.writes.map((w) => w.lsn)).toEqual(['0/10']);
    expect(h.confirmed).toEqual([]);
    h.writes[0]!.resolve();
    await h.settle();
    expect(h.confirmed).toEqual(['0/10']);
  });

  it('writes one position at a time, the newest winning, and never moves backwards', async () => {
    const h = harness();
    h.gate.offer('0/10');
    h.gate.offer('0/20');
    h.gate.offer('0/30');
    h.gate.offer('0/18');
    h.writes[0]!.resolve();
    await h.settle();
    expect(h.writes.map((w) => w.lsn)).toEqual(['0/10', '0/30']);
    h.writes[1]!.resolve();
    await h.settle();
    expect(h.confirmed).toEqual(['0/10', '0/30']);
  });

  it('holds confirmations while the record cannot be written, and says since when', async () => {
    const h = harness();
    h.gate.offer('0/10');
    h.writes[0]!.reject(new Error('Connection is closed.'));
    await h.settle();
    expect(h.confirmed).toEqual([]);
    expect(h.errors).toHaveLength(1);
    expect(h.gate.failingSince).toBe(1_000);
    h.tick(5_000);
    h.gate.offer('0/20');
    await h.settle();
    h.writes[1]!.resolve();
    await h.settle();
    expect(h.confirmed).toEqual(['0/20']);
    expect(h.gate.failingSince).toBeUndefined();
  });

  it('writes at most once per interval, the newest position winning, and at once after a quiet spell', async () => {
    const h = harness(250);
    h.gate.offer('0/10');
    await h.settle();
    expect(h.writes.map((w) => w.lsn)).toEqual(['0/10']);
    h.writes[0]!.resolve();
    await h.settle();
    // Every acknowledgement offers a position; within the interval they only replace each other.
    h.gate.offer('0/20');
    h.gate.offer('0/30');
    await h.settle();
    expect(h.writes).toHaveLength(1);
    expect(h.sleeps).toEqual([250]);
    h.tick(250);
    await h.settle();
    expect(h.writes.map((w) => w.lsn)).toEqual(['0/10', '0/30']);
    h.writes[1]!.resolve();
    await h.settle();
    expect(h.confirmed).toEqual(['0/10', '0/30']);
    h.tick(1_000);
    h.gate.offer('0/40');
    await h.settle();
    expect(h.writes.map((w) => w.lsn)).toEqual(['0/10', '0/30', '0/40']);
    expect(h.sleeps).toEqual([250]);
  });

  it('flushes what waits for the interval, so the last acknowledged commit reaches the slot before a stop', async () => {
    const h = harness(250);
    h.gate.offer('0/10');
    await h.settle();
    h.writes[0]!.resolve();
    await h.settle();
    h.gate.offer('0/20');
    await h.settle();
    const flushed = h.gate.flush();
    // The wait under way ends (in the reader, within an interval); the position is then written and confirmed.
    h.tick(1);
    await h.settle();
    h.writes[1]!.resolve();
    await flushed;
    expect(h.confirmed).toEqual(['0/10', '0/20']);
  });
});
