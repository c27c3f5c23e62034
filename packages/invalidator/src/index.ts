export { connectRedis } from '@fabric/runtime';
export {
  BatchProcessor,
  type DeadLetterDraft,
  type ProcessControl,
  type ProcessObserver,
  type ProcessOutcome,
  type SourceRecord,
} from './batch-processor.js';
export { BusPublisher, type BusPublisherOptions } from './bus-publisher.js';
export { BATCH_SCRIPTS, batchCommandMix, tagsToExpand } from './command-plan.js';
export { type InvalidatorConfig, parseInvalidatorConfig, type RedisTarget } from './config.js';
export { toDeadLetter } from './dead-letters.js';
export { type Decoded, decodeInvalidation } from './decode.js';
export { ApplyError, type ApplyStage } from './errors.js';
export { FreshnessTracker } from './freshness.js';
export { LatencyWindow } from './latency-window.js';
export {
  type ApplyResult,
  type EventFailure,
  HEARTBEAT_KEY,
  RedisApplier,
  type RedisApplierOptions,
} from './redis-applier.js';
export { type FailureKind, failureKind, failureReason, type RetryPolicy, retryDelay } from './retry-policy.js';
export { groupBySlot, keySlot, SLOTS } from './slot.js';
export { invalidatorStatus } from './status.js';
export { expandTagPage } from './tag-script.js';
export { bumpVersions } from './version-script.js';
