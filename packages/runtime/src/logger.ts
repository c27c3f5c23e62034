import { type Logger, pino } from 'pino';

/**
 * Logs go to stderr as JSON lines so stdout stays free for tables and --json output.
 * Synchronous writes: a worker killed right after logging still leaves the line behind.
 */
export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    { name, level: process.env.FABRIC_LOG_LEVEL ?? 'info', base: { pid: process.pid, ...bindings } },
    pino.destination({ fd: 2, sync: true }),
  );
}
