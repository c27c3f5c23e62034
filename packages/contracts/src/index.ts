// What the fabric's packages must agree on, each defined once: both sides import it here.

export {
  APPLIED_LSNS_KEY,
  appliedLsnField,
  BUS_HEARTBEAT_MS,
  BUS_MESSAGE_MAX_BYTES,
  type BusMessage,
  type BusParse,
  busChannel,
  parseBusMessage,
  partitionCountField,
  serializeBusMessage,
} from './bus.js';
export {
  APPLIED_OFFSETS_KEY,
  type ContinuityRecord,
  type ContinuityState,
  continuityFields,
  continuityKey,
  isResyncReason,
  parseContinuityRecord,
  parseContinuityState,
  parseRecoveryAction,
  RESYNC_DONE_PREFIX,
  RESYNC_REASONS,
  type RecoveryAction,
  type ResyncReason,
  resyncKey,
} from './continuity.js';
export { eventKey, type KeyedEvent } from './event-key.js';
export {
  type ExplicitResult,
  MAX_EXPLICIT_ENTRIES,
  MAX_EXPLICIT_PAYLOAD_BYTES,
  parseExplicitInvalidation,
} from './explicit-invalidation.js';
export { HEARTBEAT_TABLE, MESSAGE_PREFIX, OUTBOX_TABLE } from './fabric-tables.js';
export {
  APPLIED_COMMIT_TIMES_KEY,
  appliedCommitTimeField,
  COMMIT_TIME_SKEW_MS,
  type InvalidatorStatus,
  type InvalidatorStatusReading,
  LATENCY_WINDOW_SECONDS,
  parseInvalidatorStatus,
} from './invalidator-status.js';
export { deadLetterTopic, invalidationTopic, invalidatorGroup, replayLedgerTopic } from './kafka-names.js';
export {
  BATCH_OVERHEAD_BYTES,
  BROKER_MESSAGE_MAX_BYTES,
  type ByteLimits,
  byteLimitsProblem,
  chunkByBytes,
  DEFAULT_BYTE_LIMITS,
  RECORD_OVERHEAD_BYTES,
  recordBytes,
} from './limits.js';
export * from './lsn.js';
export { literalPrefix, unguardedPatternProblem } from './pattern-guard.js';
export {
  IDENTIFIER,
  identifierError,
  READER_PUBLICATION,
  READER_SLOT,
  regionIdent,
  standbyApplicationName,
  standbySlotName,
  subscriptionName,
} from './postgres-names.js';
export {
  parseReaderStatus,
  READER_VERDICTS,
  type ReaderContinuity,
  type ReaderStatus,
  type ReaderStatusReading,
  type ReaderVerdict,
} from './reader-status.js';
export { isRegionName, REGION_NAME, regionNameError } from './region-name.js';
export { type ResyncEventInput, resyncEvent, resyncId } from './resync-event.js';
