export { backoffDelay } from './backoff.js';
export { ConfigError } from './config-error.js';
export { integerFlag, requiredFlag } from './flags.js';
export { kafkaLogCreator, kafkaLogLevel } from './kafka-logger.js';
export { createLogger } from './logger.js';
export { type MetricsServer, startMetricsServer } from './metrics-server.js';
export { onShutdownSignal } from './shutdown.js';
