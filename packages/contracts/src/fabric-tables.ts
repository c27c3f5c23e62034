/**
 * The fabric's own objects in the application's database: the heartbeat the home reader
 * beats, the outbox explicit invalidations replicate through, and the prefix of the logical
 * messages the reader takes as explicit invalidations (others are ignored).
 */
export const HEARTBEAT_TABLE = 'fabric.heartbeat';
export const OUTBOX_TABLE = 'fabric.outbox';
export const MESSAGE_PREFIX = 'fabric';
