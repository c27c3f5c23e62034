export { backoffDelay } from './backoff.js';
export { ConfigError } from './config-error.js';
export { integerFlag, onOffFlag, requiredFlag } from './flags.js';
export {
  createKafka,
  createProducer,
  type KafkaClientOptions,
  type ProducerOptions,
} from './kafka-client.js';
export { kafkaLogCreator, kafkaLogLevel } from './kafka-logger.js';
export { createLogger } from './logger.js';
export { type MetricsServer, startMetricsServer } from './metrics-server.js';
export { routeProcessWarnings } from './process-warnings.js';
export { connectRedis } from './redis-connection.js';
export {
  hostPorts,
  parseRedisTarget,
  REDIS_HELP,
  REDIS_OPTIONS,
  type RedisFlagValues,
  type RedisTarget,
} from './redis-target.js';
export { type KnownError, type MainIo, type RunMainOptions, runMain } from './run-main.js';
export { onShutdownSignal } from './shutdown.js';
