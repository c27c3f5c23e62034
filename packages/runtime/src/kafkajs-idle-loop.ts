import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4, its last release, arms each connection's throttle check with
 * `throttledUntil - Date.now()` while it is neither throttled nor holding a request: a
 * negative delay, which Node runs after 1 ms, and the check arms itself again at its end.
 * Every broker connection that ever answered a request then wakes the process about a
 * thousand times a second for nothing (tulios/kafkajs#1556 and #1704; the fixes were never
 * released). Measured on the sandbox: an idle invalidator spent 30 ms of CPU per second on
 * it (8 without), and a region's reader and invalidator at 5 changes/s half their CPU.
 *
 * Replaced, once per process, by the same check that arms a timer only when a request
 * waits (every CHECK_PENDING_REQUESTS_INTERVAL, as before) or a throttle is in force (when
 * it ends). Nothing depended on the loop: a pushed request is sent at once or queued, which
 * arms the check, and a fulfilled request checks the queue itself. Any other kafkajs
 * version is left alone, and the runtime's test of this says so.
 */
const PATCHED_VERSION = '2.2.4';
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
let stopped: boolean | undefined;

/** True when the kafkajs in use is the version whose loop this replaces (and it now is). Once per process. */
export function stopKafkajsIdleLoop(): boolean {
  stopped ??= replaceCheck();
  return stopped;
}

function replaceCheck(): boolean {
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== PATCHED_VERSION) return false;
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
    prototype: RequestQueueInternals;
  };
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(
    this: RequestQueueInternals,
  ): void {
    if (this.throttleCheckTimeoutId) return;
    const throttledFor = this.throttledUntil - Date.now();
    if (this.pending.length === 0 && throttledFor <= 0) return;
    const delay = throttledFor > 0 ? throttledFor : CHECK_PENDING_REQUESTS_INTERVAL;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delay);
  };
  return true;
}
