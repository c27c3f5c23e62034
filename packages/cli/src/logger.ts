import { pino, type Logger } from 'pino';

/** Logs go to stderr so stdout stays clean for tables and --json output. */
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.FABRIC_LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: true }));
}
