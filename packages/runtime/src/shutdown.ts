import type { Logger } from 'pino';

/**
 * Resolves on the first SIGINT/SIGTERM/SIGHUP. Installed before anything starts, so a
 * signal during start-up still leads to an orderly stop instead of the default kill;
 * later signals are logged and ignored so a second Ctrl-C cannot cut the stop short
 * (the kernel would still stop the children, but lock and state files would stay).
 */
export function onShutdownSignal(logger: Logger): Promise<NodeJS.Signals> {
  let first: NodeJS.Signals | undefined;
  return new Promise((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(sig, () => {
        if (first) {
          logger.warn({ signal: sig }, 'already stopping; waiting for services to exit');
          return;
        }
        first = sig;
        resolve(sig);
      });
    }
  });
}
