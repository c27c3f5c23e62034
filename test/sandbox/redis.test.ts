import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';

describe('sandbox redis', () => {
  const endpoints = inject('endpoints');

  it('runs a separate Redis per region that answers', async () => {
    const clients = endpoints.regions.map(
      (r) => new Redis({ host: r.redis.host, port: r.redis.port, lazyConnect: true }),
    );
    try {
      for (const [i, client] of clients.entries()) {
        await client.connect();
        expect(await client.ping()).toBe('PONG');
        expect((await client.info('server')).match(/redis_version:(\d+)/)?.[1]).toBe('7');
        await client.set('sandbox:probe', endpoints.regions[i]!.region);
      }
      // Separate instances: each still holds its own region's value.
      for (const [i, client] of clients.entries()) {
        expect(await client.get('sandbox:probe')).toBe(endpoints.regions[i]!.region);
      }
    } finally {
      clients.forEach((c) => c.disconnect());
    }
  });
});
