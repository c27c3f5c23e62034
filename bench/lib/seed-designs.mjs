// The seeds' simpler designs. Both run inside the writer process.
//  sync-del: after COMMIT the writer DELs the key in every region's Redis itself.
//  pubsub:   after COMMIT the writer PUBLISHes the key on every region's Redis; one
//            subscriber per region DELs it. Messages published while a subscriber is
//            disconnected are lost (Redis pub/sub is fire-and-forget).
import { Redis } from 'ioredis';

const fastFail = { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 500, retryStrategy: () => 100, lazyConnect: true };
export const CHANNEL = 'bench:invalidate';

export class SyncDel {
  constructor(regions) {
    this.clients = regions.map((r) => ({ region: r.region, redis: new Redis(r.redis.url, fastFail) }));
    this.samples = new Map(regions.map((r) => [r.region, []]));
    this.failures = new Map(regions.map((r) => [r.region, 0]));
  }
  async open() { for (const c of this.clients) { c.redis.on('error', () => {}); await c.redis.connect(); } }
  close() { for (const c of this.clients) c.redis.disconnect(); }
  /** afterCommit hook of the writer: awaited in the write path. */
  afterCommit = async (ids, _names, tCommit) => {
    await Promise.all(this.clients.map(async (c) => {
      try {
        await c.redis.del(...ids.map((id) => `user:${id}`));
        this.samples.get(c.region).push(performance.now() - tCommit);
      } catch {
        this.failures.set(c.region, this.failures.get(c.region) + ids.length);
      }
    }));
  };
}

export class PubSub {
  constructor(regions) {
    this.pubs = regions.map((r) => ({ region: r.region, redis: new Redis(r.redis.url, fastFail) }));
    this.subs = regions.map((r) => ({ region: r.region, sub: new Redis(r.redis.url, { ...fastFail, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined }), del: new Redis(r.redis.url, fastFail) }));
    this.samples = new Map(regions.map((r) => [r.region, []]));
    this.failures = new Map(regions.map((r) => [r.region, 0]));
  }
  async open() {
    for (const c of this.pubs) { c.redis.on('error', () => {}); await c.redis.connect(); }
    for (const s of this.subs) {
      s.sub.on('error', () => {});
      s.del.on('error', () => {});
      await s.sub.connect();
      await s.del.connect();
      // Message: "<commit ms (performance.timeOrigin based)> <key> <key> ..."
      s.sub.on('message', (_ch, msg) => {
        const [t, ...keys] = msg.split(' ');
        s.del.del(...keys).then(
          () => this.samples.get(s.region).push(performance.timeOrigin + performance.now() - Number(t)),
          () => this.failures.set(s.region, this.failures.get(s.region) + keys.length),
        );
      });
      await s.sub.subscribe(CHANNEL);
    }
  }
  close() {
    for (const c of this.pubs) c.redis.disconnect();
    for (const s of this.subs) { s.sub.disconnect(); s.del.disconnect(); }
  }
  afterCommit = async (ids, _names, tCommit) => {
    const msg = `${performance.timeOrigin + tCommit} ${ids.map((id) => `user:${id}`).join(' ')}`;
    await Promise.all(this.pubs.map((c) => c.redis.publish(CHANNEL, msg).catch(() => {
      this.failures.set(c.region, this.failures.get(c.region) + ids.length);
    })));
  };
}
