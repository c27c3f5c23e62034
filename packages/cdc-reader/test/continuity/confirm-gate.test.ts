import { describe, expect, it } from 'vitest';
import { ConfirmGate } from '../../src/continuity/confirm-gate.js';

/** A gate whose record writes the test resolves or fails by hand. */
function harness() {
  const writes: Array<{ lsn: string; resolve: () => void; reject: (e: Error) => void }> = [];
  const confirmed: string[] = [];
  const errors: unknown[] = [];
  let now = 1_000;
  const gate = new ConfirmGate(
    {
      record: (lsn) => new Promise<void>((resolve, reject) => writes.push({ lsn, resolve, reject })),
      confirm: (lsn) => void confirmed.push(lsn),
      onError: (err) => void errors.push(err),
    },
    () => now,
  );
  const settle = () => new Promise((r) => setImmediate(r));
  return { gate, writes, confirmed, errors, settle, tick: (ms: number) => (now += ms) };
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
});
