export * from './decoder.js';
export * from './errors.js';
export * from './keepalive-gate.js';
export * from './lsn.js';
export * from './messages.js';
export * from './row-change.js';
export * from './slot.js';
export * from './stream.js';
