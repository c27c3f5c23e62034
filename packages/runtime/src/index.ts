export { backoffDelay } from './backoff.js';
export { ConfigError } from './config-error.js';
export { integerFlag, onOffFlag, requiredFlag } from './flags.js';
export {
  createKafka,
  createProducer,
  type KafkaClientOptions,
  type ProducerOptions,
} from './kafka-client.js';
export { type KafkaFailure, type KafkaFailureKind, kafkaFailure } from './kafka-errors.js';
export {
  explainKafkaError,
  KAFKA_FLAG_NAMES,
  KafkaAccessError,
  type KafkaSettingNames,
  kafkaErrorHint,
  kafkaFieldNames,
} from './kafka-hint.js';
export { kafkaLogCreator, kafkaLogLevel } from './kafka-logger.js';
export {
  describeKafkaSecurity,
  KAFKA_SASL_MECHANISMS,
  KAFKA_SECURITY_HELP,
  KAFKA_SECURITY_OPTIONS,
  type KafkaSaslMechanism,
  type KafkaSecurity,
  type KafkaSecurityFlagValues,
  parseKafkaSecurity,
} from './kafka-security.js';
export { stopKafkajsIdleLoop } from './kafkajs-idle-loop.js';
export { createLogger } from './logger.js';
export { type MetricsServer, startMetricsServer } from './metrics-server.js';
export { POSTGRES_SSLMODES, type PostgresSslMode, postgresUrlWithTls } from './postgres-tls.js';
export { routeProcessWarnings } from './process-warnings.js';
export { RecoveringProducer, type RecoveringProducerOptions } from './recovering-producer.js';
export { redact, redactSecrets } from './redact.js';
export { connectRedis } from './redis-connection.js';
export {
  describeRedisTarget,
  hostPorts,
  parseRedisTarget,
  REDIS_HELP,
  REDIS_OPTIONS,
  type RedisFlagValues,
  type RedisTarget,
} from './redis-target.js';
export { type KnownError, type MainIo, type RunMainOptions, runMain } from './run-main.js';
export { onShutdownSignal } from './shutdown.js';
