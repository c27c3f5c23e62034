import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { type OutgoingMessage, Publisher } from '../src/publisher.js';

const logger = pino({ level: 'silent' });
const msg = (key: string): OutgoingMessage => ({ topic: 't', key, value: new Uint8Array([1]) });

/** A broker stand-in that records batches and can be told to fail or stall. */
function fakeBroker() {
  const batches: string[][] = [];
  let failNext = 0;
  let gate: Promise<void> | undefined;
  return {
    batches,
    failTimes(n: number) {
      failNext = n;
    },
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
    send: async (messages: OutgoingMessage[]) => {
      if (gate) await gate;
      if (failNext > 0) {
        failNext--;
        throw new Error('broker unavailable');
      }
      batches.push(messages.map((m) => m.key));
    },
  };
}

describe('Publisher', () => {
  it('confirms a commit only after every message queued before it was acknowledged', async () => {
    const broker = fakeBroker();
    const confirmed: string[] = [];
    const release = broker.hold();
    const p = new Publisher({
      send: broker.send,
      onConfirmed: (l) => confirmed.push(l),
      logger,
      maxBatch: 2,
      lingerMs: 0,
    });
    await p.enqueue(msg('a'));
    await p.enqueue(msg('b'));
    p.commit('0/10');
    await p.enqueue(msg('c'));
    p.commit('0/20');
    await sleep(20);
    expect(confirmed).toEqual([]);
    release();
    await p.close();
    expect(broker.batches.flat()).toEqual(['a', 'b', 'c']);
    // Commits finished by the same batch collapse into the newest one.
    expect(confirmed.at(-1)).toBe('0/20');
    expect(confirmed).toEqual([...new Set(confirmed)].sort());
  });

  it('retries a failed batch until it is acknowledged, in order, without skipping', async () => {
    const broker = fakeBroker();
    const confirmed: string[] = [];
    broker.failTimes(3);
    const p = new Publisher({
      send: broker.send,
      onConfirmed: (l) => confirmed.push(l),
      logger,
      maxBatch: 10,
      lingerMs: 1,
      retryBaseMs: 1,
      retryCapMs: 5,
    });
    for (const k of ['a', 'b', 'c']) await p.enqueue(msg(k));
    p.commit('0/30');
    await p.close();
    expect(broker.batches).toEqual([['a', 'b', 'c']]);
    expect(confirmed).toEqual(['0/30']);
  });

  it('never confirms past a batch that is still failing when it closes', async () => {
    const broker = fakeBroker();
    const confirmed: string[] = [];
    broker.failTimes(1_000);
    const p = new Publisher({
      send: broker.send,
      onConfirmed: (l) => confirmed.push(l),
      logger,
      maxBatch: 10,
      lingerMs: 0,
      retryBaseMs: 1,
      retryCapMs: 2,
    });
    await p.enqueue(msg('a'));
    p.commit('0/40');
    await p.close(100);
    expect(confirmed).toEqual([]);
    expect(p.pending).toBe(1);
  });

  it('confirms a commit without messages (all changes skipped) in order with the rest', async () => {
    const broker = fakeBroker();
    const confirmed: string[] = [];
    const p = new Publisher({
      send: broker.send,
      onConfirmed: (l) => confirmed.push(l),
      logger,
      maxBatch: 10,
      lingerMs: 1,
    });
    p.commit('0/50');
    await p.enqueue(msg('a'));
    p.commit('0/60');
    p.commit('0/70');
    await p.close();
    expect(confirmed.at(-1)).toBe('0/70');
    expect(confirmed).toEqual([...confirmed].sort());
  });

  it('splits large commits into batches of maxBatch and applies backpressure above maxPending', async () => {
    const broker = fakeBroker();
    const confirmed: string[] = [];
    const release = broker.hold();
    const p = new Publisher({
      send: broker.send,
      onConfirmed: (l) => confirmed.push(l),
      logger,
      maxBatch: 100,
      lingerMs: 0,
      maxPending: 250,
    });
    let enqueued = 0;
    const producer = (async () => {
      for (let i = 0; i < 1_000; i++) {
        await p.enqueue(msg(String(i)));
        enqueued++;
      }
      p.commit('1/0');
    })();
    // Blocked broker: the producer is held at the pending limit instead of buffering all. The
    // 250th enqueue is the one that waits, so 249 returned and 250 are pending.
    await vi.waitFor(() => expect(p.pending).toBe(250));
    expect(enqueued).toBe(249);
    // And it stays held while the broker does: nothing moves over many turns of the event loop.
    for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect([enqueued, p.pending, broker.batches.length]).toEqual([249, 250, 0]);
    release();
    await producer;
    await p.close();
    expect(broker.batches.every((b) => b.length <= 100)).toBe(true);
    expect(broker.batches.flat()).toEqual(Array.from({ length: 1_000 }, (_, i) => String(i)));
    expect(confirmed).toEqual(['1/0']);

    // Negative control: with the limit out of reach, the same loop runs through against the
    // same blocked broker, all 1,000 buffered, which the checks above would have caught.
    const stalled = fakeBroker();
    const releaseStalled = stalled.hold();
    const unbounded = new Publisher({
      send: stalled.send,
      onConfirmed: () => {},
      logger,
      maxBatch: 100,
      lingerMs: 0,
      maxPending: 5_000,
    });
    for (let i = 0; i < 1_000; i++) await unbounded.enqueue(msg(String(i)));
    expect(unbounded.pending).toBe(1_000);
    releaseStalled();
    await unbounded.close();
  });

  it('lingers only while the link is busy: on a quiet link a commit goes out at the end of its turn', async () => {
    const broker = fakeBroker();
    const confirmed: string[] = [];
    const p = new Publisher({
      send: broker.send,
      onConfirmed: (l) => confirmed.push(l),
      logger,
      maxBatch: 10,
      lingerMs: 500,
    });
    // Nothing sent for ten lingers: what one turn queues is one batch, sent without waiting.
    const started = performance.now();
    await p.enqueue(msg('a'));
    await p.enqueue(msg('b'));
    p.commit('0/10');
    await vi.waitFor(() => expect(broker.batches).toEqual([['a', 'b']]), { timeout: 2_000, interval: 1 });
    expect(performance.now() - started).toBeLessThan(400);
    expect(confirmed).toEqual(['0/10']);
    // Right after a send the link is busy: the next message waits for company, up to the linger.
    await p.enqueue(msg('c'));
    p.commit('0/20');
    await sleep(100);
    expect(broker.batches).toEqual([['a', 'b']]);
    await p.enqueue(msg('d'));
    p.commit('0/30');
    await vi.waitFor(
      () =>
        expect(broker.batches).toEqual([
          ['a', 'b'],
          ['c', 'd'],
        ]),
      { timeout: 2_000 },
    );
    expect(confirmed).toEqual(['0/10', '0/30']);
    await p.close();
  });
});
