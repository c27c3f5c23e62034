import { setTimeout as sleep } from 'node:timers/promises';

/** Polls fn until it returns truthy or timeoutMs; returns ms waited, or null on timeout. */
export async function waitFor(fn, timeoutMs, everyMs = 100) {
  const start = performance.now();
  for (;;) {
    if (await fn()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) return null;
    await sleep(everyMs);
  }
}
