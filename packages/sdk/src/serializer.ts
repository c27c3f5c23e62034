/** Turns cached values into the strings stored in Redis and back. */
export interface Serializer {
  serialize(value: unknown): string | undefined;
  deserialize(text: string): unknown;
}

export const jsonSerializer: Serializer = {
  // JSON.stringify gives undefined for undefined and functions; the cache refuses those.
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text) as unknown,
};
