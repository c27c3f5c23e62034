import type { Clock } from '../src/clock.js';

/** A clock that moves only when the test says so; due timers run in order of their time. */
export function manualClock(start = 1_000_000): Clock & { advance(ms: number): Promise<void> } {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer(fn, ms) {
      const id = seq++;
      timers.set(id, { at: now + ms, fn });
      return { cancel: () => timers.delete(id) };
    },
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        // Let the promise callbacks the timer started run before the next one is due.
        for (let i = 0; i < 10; i++) await Promise.resolve();
      }
      now = until;
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
}
