import type { DeadLetter, InvalidationEvent } from '@fabric/proto';

/**
 * What one decoded change turns into. The publisher sends events and dead letters to
 * Kafka; a heartbeat goes to every partition (so freshness holds per partition); a relay
 * is a logical message the home reader copies into the outbox for the other regions.
 */
export type Output =
  | { kind: 'event'; key: string; event: InvalidationEvent }
  | { kind: 'heartbeat'; event: InvalidationEvent }
  | { kind: 'dead-letter'; key: string; deadLetter: DeadLetter }
  | { kind: 'relay'; payload: string; sourceLsn: string };
