// What clients (the CLI) need to read the answers, so they depend on this package alone.
export {
  type ComponentHealth,
  ComponentStatus,
  ContinuityState,
  type DeadLetterEntry,
  DeadLetterState,
  type GetLagResponse,
  GetLagResponseSchema,
  type InvalidateResponse,
  InvalidateResponseSchema,
  type ListDeadLettersResponse,
  ListDeadLettersResponseSchema,
  type RegionContinuity,
  type RegionLag,
  RegionStatus,
  type ReplayDeadLettersResponse,
  ReplayDeadLettersResponseSchema,
  ReplayOutcome,
  type ResolveDeadLettersResponse,
  ResolveDeadLettersResponseSchema,
  ResolveOutcome,
  type ResyncResponse,
  ResyncResponseSchema,
  timestampDate,
  timestampFromDate,
  toJson,
  WatchLagResponseSchema,
} from '@fabric/proto';
export { hashToken, SCOPES, type Scope, type TokenEntry } from './auth.js';
export {
  type CallOptions,
  type ClientOf,
  type ClientOptions,
  ControlPlaneClient,
  ControlPlaneError,
} from './client.js';
export {
  type ControlPlaneConfig,
  loadControlPlaneConfig,
  type RegionConfig,
  type TlsFiles,
  validateControlPlaneConfig,
} from './config.js';
export { ServingStatus } from './health-service.js';
export { assertListenSecure, isLoopback } from './listen-guard.js';
export { ControlPlaneMetrics } from './metrics.js';
export { ControlPlane } from './server.js';
export { DEFAULT_LIMITS, type ServerLimits } from './server-limits.js';
