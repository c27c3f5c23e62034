import type { Logger } from 'pino';

/**
 * Node's process warnings go to the worker's log instead of bare stderr, except one that
 * is known and harmless: kafkajs (2.2.4) arms its throttle timer with `throttledUntil -
 * Date.now()` while it is not throttled, a negative delay Node has always run after 1 ms
 * and, since Node 24, also warns about (TimeoutNegativeWarning) on every request.
 */
export function routeProcessWarnings(logger: Logger, proc: NodeJS.Process = process): void {
  proc.removeAllListeners('warning');
  proc.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    logger.warn({ warning: warning.name, err: warning }, warning.message);
  });
}
