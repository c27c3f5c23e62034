import { type logCreator, logLevel } from 'kafkajs';
import type { Logger } from 'pino';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Routes kafkajs logs into pino. Its INFO level narrates every group join and connect,
 * so it is logged at debug; warnings and errors keep their level.
 */
export function kafkaLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const pinoLevel = LEVELS[level] === 'info' ? 'debug' : (LEVELS[level] ?? 'debug');
      child[pinoLevel](extra, message);
    };
}

/** kafkajs's own level matching FABRIC_LOG_LEVEL, so it does not build debug lines pino drops. */
export function kafkaLogLevel(logger: Logger): logLevel {
  return logger.isLevelEnabled('debug') ? logLevel.DEBUG : logLevel.WARN;
}
