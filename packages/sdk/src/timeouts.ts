import type { Clock, TimerHandle } from './clock.js';

/**
 * Soft and hard timeouts around one load. The soft timeout only means something when there
 * is a graced value to answer with: without one the caller keeps waiting, up to the hard
 * timeout, since an answer late beats no answer. The hard timeout is a plain failure.
 *
 * The load itself is never cancelled (a promise cannot be): after either timeout it keeps
 * running, and what becomes of its result is the caller's decision (cache.ts: after a soft
 * timeout it is written through the lease as usual; after a hard timeout the lease is given
 * back and the result discarded).
 */
export interface LoadTimeouts {
  softMs?: number | undefined;
  hardMs?: number | undefined;
}

export type LoadOutcome<T, G> =
  | { kind: 'loaded'; value: T; durationMs: number }
  | { kind: 'failed'; error: unknown }
  | { kind: 'soft-timeout'; graced: G }
  | { kind: 'hard-timeout'; afterMs: number };

/**
 * `graced` is asked for the fallback only when the soft timeout fires, so a fast load costs
 * no extra round trip; if it fails or finds nothing, the wait goes on.
 */
export function awaitLoad<T, G>(
  load: Promise<T>,
  timeouts: LoadTimeouts,
  graced: () => Promise<G | undefined>,
  clock: Clock,
): Promise<LoadOutcome<T, G>> {
  const started = clock.now();
  return new Promise((resolve) => {
    let settled = false;
    const timers: TimerHandle[] = [];
    const finish = (outcome: LoadOutcome<T, G>): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) timer.cancel();
      resolve(outcome);
    };
    load.then(
      (value) => finish({ kind: 'loaded', value, durationMs: clock.now() - started }),
      (error: unknown) => finish({ kind: 'failed', error }),
    );
    if (timeouts.softMs !== undefined) {
      timers.push(
        clock.setTimer(() => {
          graced().then(
            (value) => {
              if (value !== undefined) finish({ kind: 'soft-timeout', graced: value });
            },
            () => undefined,
          );
        }, timeouts.softMs),
      );
    }
    if (timeouts.hardMs !== undefined) {
      const hardMs = timeouts.hardMs;
      timers.push(clock.setTimer(() => finish({ kind: 'hard-timeout', afterMs: hardMs }), hardMs));
    }
  });
}
