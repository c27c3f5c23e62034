export { ControlPlane } from './server.js';
export { ControlPlaneClient, ControlPlaneError, type ClientOptions, type CallOptions, type ClientOf } from './client.js';
export { loadControlPlaneConfig, validateControlPlaneConfig, type ControlPlaneConfig, type RegionConfig, type TlsFiles } from './config.js';
export { hashToken, SCOPES, type Scope, type TokenEntry } from './auth.js';
export { ControlPlaneMetrics } from './metrics.js';
export { ledgerTopic } from './replay-ledger.js';
export { ServingStatus } from './health-service.js';
// What clients (the CLI) need to read the answers, so they depend on this package alone.
export {
  ComponentStatus,
  RegionStatus,
  ReplayOutcome,
  GetLagResponseSchema,
  WatchLagResponseSchema,
  ListDeadLettersResponseSchema,
  ReplayDeadLettersResponseSchema,
  InvalidateResponseSchema,
  toJson,
  timestampDate,
  timestampFromDate,
  type GetLagResponse,
  type RegionLag,
  type ComponentHealth,
  type DeadLetterEntry,
  type ListDeadLettersResponse,
  type ReplayDeadLettersResponse,
  type InvalidateResponse,
} from '@fabric/proto';
