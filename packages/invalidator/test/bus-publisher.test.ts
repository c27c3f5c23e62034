import { APPLIED_LSNS_KEY, parseBusMessage } from '@fabric/contracts';
import { create, InvalidationEventSchema, Operation } from '@fabric/proto';
import type { RedisClient } from '@fabric/sdk';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BusPublisher } from '../src/bus-publisher.js';

/**
 * A Redis that records what the delivery script would publish and raise (its ARGV: channel,
 * n, n field/LSN pairs, messages), and heartbeat publishes; `fail` makes both throw.
 */
function fakeRedis() {
  const published: string[] = [];
  const raised: string[][] = [];
  const state = { fail: false, calls: 0 };
  const redis = {
    publish: async (_channel: string, text: string) => {
      if (state.fail) throw new Error('down');
      published.push(text);
      return 1;
    },
    hset: async () => 1,
    evalsha: async (_sha: string, _n: number, key: string, _channel: string, n: number, ...rest: string[]) => {
      if (state.fail) throw new Error('down');
      state.calls++;
      if (key === APPLIED_LSNS_KEY && n > 0) raised.push(rest.slice(0, 2 * n));
      published.push(...rest.slice(2 * n));
      return 1;
    },
  } as unknown as RedisClient;
  return { redis, published, raised, state };
}

const settle = () => new Promise((r) => setImmediate(r)).then(() => new Promise((r) => setImmediate(r)));
const ev = (fields: { keys?: string[]; primaryLsn?: string; operation?: Operation }) =>
  create(InvalidationEventSchema, { operation: Operation.UPDATE, ...fields });

describe('BusPublisher', () => {
  const make = (maxBytes?: number) => {
    const fake = fakeRedis();
    const bus = new BusPublisher({
      redis: fake.redis,
      region: 'eu-west',
      topic: 'fabric.inval.eu-west',
      partitions: 3,
      member: 'm',
      logger: pino({ level: 'silent' }),
      maxBytes,
    });
    const messages = () => fake.published.map((t) => parseBusMessage(t)).map((p) => (p.ok ? p.message : undefined));
    return { ...fake, bus, messages };
  };

  it('publishes invalidations at once, but a partition watermark only when its chunk is done', async () => {
    const { bus, messages, raised } = make();
    bus.applied(ev({ keys: ['a'], primaryLsn: '0/10' }), 1);
    bus.applied(ev({ keys: ['b'], primaryLsn: '0/20' }), 1);
    await settle();
    expect(messages()).toMatchObject([{ keys: ['a', 'b'], watermarks: {} }]);
    bus.chunkDone(1);
    await settle();
    expect(messages()[1]).toMatchObject({ keys: [], watermarks: { '1': '0/20' }, partitions: 3 });
    expect(raised).toEqual([['fabric.inval.eu-west:1', '0000000000000020']]);
  });

  it('splits a large invalidation by bytes, the watermark on the last part, all in one call', async () => {
    const { bus, messages, state } = make(200);
    const keys = Array.from({ length: 40 }, (_, i) => `user:${i}`);
    bus.applied(ev({ keys, primaryLsn: '0/30' }), 0);
    bus.chunkDone(0);
    await settle();
    const all = messages();
    expect(all.length).toBeGreaterThan(2);
    expect(all.flatMap((m) => m?.keys ?? [])).toEqual(keys);
    expect(all.at(-1)?.watermarks).toEqual({ '0': '0/30' });
    expect(all.slice(0, -1).every((m) => Object.keys(m?.watermarks ?? {}).length === 0)).toBe(true);
    expect(state.calls).toBe(1);
  });

  it('a resync is a flush, and so is the first message after a publish was lost', async () => {
    const { bus, messages, state } = make();
    bus.applied(ev({ operation: Operation.RESYNC }), 0);
    await settle();
    expect(messages()[0]?.flush).toBe(true);
    state.fail = true;
    bus.applied(ev({ keys: ['lost'] }), 0);
    await settle();
    state.fail = false;
    bus.applied(ev({ keys: ['next'] }), 0);
    await settle();
    expect(messages()[1]).toMatchObject({ keys: ['next'], flush: true });
  });
});
