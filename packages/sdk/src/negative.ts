import type { Serializer } from './serializer.js';

/**
 * Negative caching: a loader's "not found" (undefined or null) is cached like any value, at
 * the same key, for the short negativeTtlSeconds, so a flood of lookups for a missing row
 * does not reach the database each time. Being a value at the key itself, it goes away with
 * every invalidation of the key (delete, tag, version) exactly as a found value does: the row
 * being inserted is a change the key rules turn into an invalidation of this key.
 *
 * null is stored by the serializer as usual; undefined, which JSON cannot hold, is stored as
 * ABSENT_PAYLOAD. The marker starts with NUL, which no JSON text does; a custom serializer
 * must not produce exactly this string. Reads decode it whether or not this process has
 * negative caching on, since another process may have written it.
 */
export const ABSENT_PAYLOAD = '\u0000fabric:absent';

export const isNotFound = (value: unknown): boolean => value === undefined || value === null;

/**
 * The stored payload, or undefined when the serializer cannot hold the value. undefined is
 * stored as the marker only with negative caching on; without it, it stays an error, as a
 * loader returning nothing is then more likely a bug than an answer.
 */
export function encodePayload(value: unknown, serializer: Serializer, negative: boolean): string | undefined {
  if (value === undefined && negative) return ABSENT_PAYLOAD;
  return serializer.serialize(value);
}

export function decodePayload(payload: string, serializer: Serializer): unknown {
  return payload === ABSENT_PAYLOAD ? undefined : serializer.deserialize(payload);
}
