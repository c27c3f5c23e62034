export { ChangeMapper, type CommitContext } from './change-mapper.js';
export { parseReaderConfig, type ReaderConfig } from './config.js';
export type { Output } from './outputs.js';
export * from './pgoutput/index.js';
export { type OutgoingMessage, Publisher, type SendBatch } from './publisher.js';
export { CdcReader } from './reader.js';
export { toRowChange } from './row-change.js';
export * from './rules/index.js';
export * from './slot-setup.js';
