import { setImmediate as tick } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type OutgoingMessage, Publisher } from '../src/publisher.js';

const logger = pino({ level: 'silent' });
const msg = (key: string): OutgoingMessage => ({ topic: 't', key, value: new Uint8Array([1]) });

/** Waits for `condition` with a deadline, yielding to timers in between. */
async function until(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('Publisher.unacknowledged (what the reader health judges)', () => {
  it('reports the batch in flight from its first attempt, counts failed attempts, and clears once acknowledged', async () => {
    const attempts: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
    const clock = { now: 1_000 };
    const confirmed: string[] = [];
    const p = new Publisher({
      send: () => new Promise<void>((resolve, reject) => attempts.push({ resolve, reject })),
      onConfirmed: (lsn) => confirmed.push(lsn),
      logger,
      maxBatch: 10,
      lingerMs: 0,
      retryBaseMs: 1,
      retryCapMs: 1,
      now: () => clock.now,
    });
    expect(p.unacknowledged).toBeUndefined();

    await p.enqueue(msg('a'));
    p.commit('0/10');
    await until('first attempt', () => attempts.length === 1);
    expect(p.unacknowledged).toEqual({ since: 1_000, failedAttempts: 0 });

    clock.now = 5_000;
    attempts[0]!.reject(new Error('broker unavailable'));
    await until('second attempt', () => attempts.length === 2);
    // Still the same batch: `since` is its first attempt, not the retry.
    expect(p.unacknowledged).toEqual({ since: 1_000, failedAttempts: 1, lastError: 'broker unavailable' });

    attempts[1]!.resolve();
    await until('confirmation', () => confirmed.length === 1);
    await tick();
    expect(p.unacknowledged).toBeUndefined();
    expect(confirmed).toEqual(['0/10']);
    await p.close();
  });
});
