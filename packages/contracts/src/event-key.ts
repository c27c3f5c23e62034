import { type InvalidationEvent, Operation } from '@fabric/proto';

export type KeyedEvent = Pick<
  InvalidationEvent,
  'id' | 'operation' | 'table' | 'keys' | 'tags' | 'versions' | 'patterns'
>;

/**
 * The Kafka key of an event: its first cache key (else tag, version key, pattern), so every
 * event touching that key lands on one partition in commit order. A TRUNCATE is keyed by its
 * table, and a row change without any target falls back to its table too. Not the replica
 * identity: under REPLICA IDENTITY FULL pgoutput flags every column as identity, and the
 * "identity" would change with each update of the row.
 *
 * The reader keys what it publishes with this, and a replayed dead letter is keyed with it
 * again, so the replay joins the partition the original went to.
 */
export function eventKey(event: KeyedEvent): string {
  // Every partition gets its own copy of a resync; the key only names what it is.
  if (event.operation === Operation.RESYNC) return 'resync';
  if (event.operation === Operation.TRUNCATE) return event.table;
  return event.keys[0] ?? event.tags[0] ?? event.versions[0] ?? event.patterns[0] ?? (event.table || event.id);
}
