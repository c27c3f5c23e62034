export { type Binaries, findBinaries, findPgBin } from './binaries.js';
export * from './config.js';
export { DATABASE, DEMO_SCHEMA, PUBLICATION, REPLICATED_TABLES } from './demo-schema.js';
export * from './endpoints.js';
export * from './errors.js';
export { FABRIC_SCHEMA, FABRIC_TABLES } from './fabric-schema.js';
export { FailoverError, type FailoverReport, type FailoverStep } from './failover.js';
export { logicalFailover } from './failover-logical.js';
export { type BrokerSecurity, type KafkaOptions, startKafka } from './kafka.js';
export {
  type NetworkPlan,
  NetworkSetupError,
  planNetwork,
  type RegionNetwork,
  setUpNetwork,
  tearDownNetwork,
} from './network.js';
export * from './ports.js';
export { type PostgresOptions, startPostgres } from './postgres.js';
export { ping as pingRedis } from './redis.js';
export {
  type DatabaseEndpoint,
  ensurePublication,
  ensureSchema,
  ensureSubscription,
  waitForSubscriptionSync,
} from './replication.js';
export { ownedDir, postgresUser, type RunAs } from './run-as.js';
export { defaultKafkaLibs, Sandbox, type SandboxDeps, type ServiceKind } from './sandbox.js';
export { type ExitStatus, ServiceProcess, type ServiceSpec } from './service-process.js';
export { Supervisor, type SupervisorFiles } from './supervisor.js';
