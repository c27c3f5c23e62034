// Seed design "sync-del": after COMMIT the writer DELs the keys in every region's Redis
// itself, in the write path.

import type { RegionEndpoints } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { countFailures, FAST_FAIL, type SeedDesign } from './seed-designs.js';
import type { AfterCommit } from './writer.js';

export class SyncDel implements SeedDesign {
  private readonly clients: Array<{ region: string; redis: Redis }>;
  readonly samples: Map<string, number[]>;
  readonly failures: Map<string, number>;

  constructor(regions: readonly RegionEndpoints[]) {
    this.clients = regions.map((r) => ({ region: r.region, redis: new Redis(r.redis.url, FAST_FAIL) }));
    this.samples = new Map(regions.map((r) => [r.region, []]));
    this.failures = new Map(regions.map((r) => [r.region, 0]));
  }

  async open(): Promise<void> {
    for (const c of this.clients) {
      c.redis.on('error', () => {});
      await c.redis.connect();
    }
  }

  close(): void {
    for (const c of this.clients) c.redis.disconnect();
  }

  readonly afterCommit: AfterCommit = async (ids, _names, tCommit) => {
    await Promise.all(
      this.clients.map(async (c) => {
        try {
          await c.redis.del(...ids.map((id) => `user:${id}`));
          this.samples.get(c.region)?.push(performance.now() - tCommit);
        } catch {
          countFailures(this.failures, c.region, ids.length);
        }
      }),
    );
  };
}
