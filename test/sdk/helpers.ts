import { randomBytes } from 'node:crypto';
import { create, type InvalidationEvent, InvalidationEventSchema, Operation } from '@fabric/proto';
import type { Redis } from 'ioredis';

/** A unique prefix per test file run, so nothing collides with other tests on the shared Redis. */
export const uniquePrefix = (name: string): string => `t-${name}-${process.pid}-${randomBytes(3).toString('hex')}:`;

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let seq = 0;
export function event(fields: {
  keys?: string[];
  tags?: string[];
  versions?: string[];
  patterns?: string[];
  operation?: Operation;
  id?: string;
}): InvalidationEvent {
  return create(InvalidationEventSchema, {
    id: fields.id ?? `test:0/0:${seq++}`,
    region: 'test',
    operation: Operation.UPDATE,
    ...fields,
  });
}

/** Deletes everything the test created: values, leases, stale copies and tag sets all contain the prefix. */
export async function cleanup(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
