// Polling until a condition holds.
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls fn until it returns truthy or timeoutMs; returns ms waited, or null on timeout. */
export async function waitFor(fn: () => unknown, timeoutMs: number, everyMs = 100): Promise<number | null> {
  const start = performance.now();
  for (;;) {
    if (await fn()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) return null;
    await sleep(everyMs);
  }
}
