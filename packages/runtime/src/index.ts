export { createLogger } from './logger.js';
export { kafkaLogCreator, kafkaLogLevel } from './kafka-logger.js';
export { startMetricsServer, type MetricsServer } from './metrics-server.js';
export { onShutdownSignal } from './shutdown.js';
export { ConfigError } from './config-error.js';
export { backoffDelay } from './backoff.js';
export { requiredFlag, integerFlag } from './flags.js';
