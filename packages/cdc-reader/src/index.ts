export * from './rules/index.js';
export * from './pgoutput/index.js';
export { ChangeMapper, partitionKey, HEARTBEAT_TABLE, OUTBOX_TABLE, MESSAGE_PREFIX, type CommitContext } from './change-mapper.js';
export type { Output } from './outputs.js';
export { Publisher, type OutgoingMessage, type SendBatch } from './publisher.js';
export { CdcReader } from './reader.js';
export { parseReaderConfig, type ReaderConfig } from './config.js';
