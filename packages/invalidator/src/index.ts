export { RedisApplier, type ApplyResult, type EventFailure, type RedisApplierOptions } from './redis-applier.js';
export { ApplyError, type ApplyStage } from './errors.js';
export { crc16, keySlot, groupBySlot, SLOTS } from './slot.js';
export { expandTag } from './tag-script.js';
