// Seed design "pubsub": after COMMIT the writer PUBLISHes the keys on every region's Redis;
// one subscriber per region DELs them. Messages published while a subscriber is
// disconnected are lost (Redis pub/sub is fire-and-forget).

import type { RegionEndpoints } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { countFailures, FAST_FAIL, type SeedDesign } from './seed-designs.js';
import type { AfterCommit } from './writer.js';

export const CHANNEL = 'bench:invalidate';

export class PubSub implements SeedDesign {
  private readonly pubs: Array<{ region: string; redis: Redis }>;
  private readonly subs: Array<{ region: string; sub: Redis; del: Redis }>;
  readonly samples: Map<string, number[]>;
  readonly failures: Map<string, number>;

  constructor(regions: readonly RegionEndpoints[]) {
    this.pubs = regions.map((r) => ({ region: r.region, redis: new Redis(r.redis.url, FAST_FAIL) }));
    this.subs = regions.map((r) => ({
      region: r.region,
      sub: new Redis(r.redis.url, {
        ...FAST_FAIL,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        commandTimeout: undefined,
      }),
      del: new Redis(r.redis.url, FAST_FAIL),
    }));
    this.samples = new Map(regions.map((r) => [r.region, []]));
    this.failures = new Map(regions.map((r) => [r.region, 0]));
  }

  async open(): Promise<void> {
    for (const c of this.pubs) {
      c.redis.on('error', () => {});
      await c.redis.connect();
    }
    for (const s of this.subs) {
      s.sub.on('error', () => {});
      s.del.on('error', () => {});
      await s.sub.connect();
      await s.del.connect();
      // Message: "<commit ms (performance.timeOrigin based)> <key> <key> ..."
      s.sub.on('message', (_channel: string, msg: string) => {
        const [t, ...keys] = msg.split(' ');
        s.del.del(...keys).then(
          () => this.samples.get(s.region)?.push(performance.timeOrigin + performance.now() - Number(t)),
          () => countFailures(this.failures, s.region, keys.length),
        );
      });
      await s.sub.subscribe(CHANNEL);
    }
  }

  close(): void {
    for (const c of this.pubs) c.redis.disconnect();
    for (const s of this.subs) {
      s.sub.disconnect();
      s.del.disconnect();
    }
  }

  readonly afterCommit: AfterCommit = async (ids, _names, tCommit) => {
    const msg = `${performance.timeOrigin + tCommit} ${ids.map((id) => `user:${id}`).join(' ')}`;
    await Promise.all(
      this.pubs.map((c) =>
        c.redis.publish(CHANNEL, msg).catch(() => {
          countFailures(this.failures, c.region, ids.length);
        }),
      ),
    );
  };
}
