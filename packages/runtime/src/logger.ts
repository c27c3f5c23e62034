import { type Logger, pino } from 'pino';
import { redact } from './redact.js';

/**
 * Logs go to stderr as JSON lines so stdout stays free for tables and --json output.
 * Synchronous writes: a worker killed right after logging still leaves the line behind.
 * Every line is written with URL passwords masked (redact): an error from a library may
 * quote the connection string it was given, and no call site can vouch for all of them.
 */
export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      name,
      level: process.env.FABRIC_LOG_LEVEL ?? 'info',
      base: { pid: process.pid, ...bindings },
      hooks: { streamWrite: redact },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
