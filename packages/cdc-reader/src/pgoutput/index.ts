export * from './decoder.js';
export * from './errors.js';
export * from './keepalive-gate.js';
export * from './lsn.js';
export * from './messages.js';
export * from './standby-status.js';
export * from './start-replication.js';
export * from './stream.js';
