import { setTimeout as sleep } from 'node:timers/promises';
import type { RegionEndpoints } from '@fabric/sandbox';
import { FabricCache } from '@fabric/sdk';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface WorkloadStats {
  writes: number;
  writeErrors: number;
  reads: number;
  readErrors: number;
}

/**
 * Writers at the primary and leased cache-aside readers in every region, running until
 * stopped. Writers log the last value committed per row: the checker's ground truth.
 */
export class Workload {
  readonly stats: WorkloadStats = { writes: 0, writeErrors: 0, reads: 0, readErrors: 0 };
  /** Last committed name per user id, in commit order per id (one writer per id range). */
  readonly committed = new Map<number, string>();
  readonly writesPerId = new Map<number, number>();
  private running = true;
  private loops: Array<Promise<void>> = [];
  private readonly clients: Array<{ end(): unknown; disconnect?: () => void }> = [];

  /**
   * Ids whose last write ended in an error: it may or may not have committed (a primary
   * fenced mid-commit), so their ground truth is unknown until settle() writes them again.
   */
  readonly uncertain = new Set<number>();
  /** Writes that committed after the home region moved (see `home`). */
  writesAfterMove = 0;

  constructor(
    private readonly regions: RegionEndpoints[],
    private readonly ids: number[],
    private readonly opts: {
      writers: number;
      readersPerRegion: number;
      writePauseMs: number;
      /** Where the primary is now; a writer whose write failed asks again (a failover moves it). */
      home?: () => RegionEndpoints;
    },
  ) {}

  private home(): RegionEndpoints {
    return this.opts.home?.() ?? this.regions.find((r) => r.home)!;
  }

  start(): void {
    // Each writer owns a slice of the ids, so "last committed" per id is well defined.
    for (let w = 0; w < this.opts.writers; w++) {
      const mine = this.ids.filter((_, i) => i % this.opts.writers === w);
      this.loops.push(this.writer(w, mine));
    }
    for (const region of this.regions)
      for (let r = 0; r < this.opts.readersPerRegion; r++) this.loops.push(this.reader(region));
  }

  private async writer(w: number, ids: number[]): Promise<void> {
    const first = this.home().region;
    let db: pg.Client | undefined;
    let seq = 0;
    while (this.running) {
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      const name = `w${w}-${++seq}`;
      try {
        if (!db) {
          db = new pg.Client({ connectionString: this.home().postgres.url, connectionTimeoutMillis: 2_000 });
          db.on('error', () => undefined);
          await db.connect();
          this.clients.push(db);
        }
        const home = this.home().region;
        // A promoted standby accepts writes; a fenced or rebuilt old primary does not.
        await db.query('update users set name = $2 where id = $1', [id, name]);
        this.committed.set(id, name);
        this.uncertain.delete(id);
        this.writesPerId.set(id, (this.writesPerId.get(id) ?? 0) + 1);
        this.stats.writes++;
        if (home !== first) this.writesAfterMove++;
      } catch {
        this.stats.writeErrors++;
        this.uncertain.add(id);
        db?.end().catch(() => undefined);
        db = undefined;
        await sleep(200);
      }
      await sleep(this.opts.writePauseMs);
    }
  }

  /** After stop(): writes every uncertain id once more at the primary, so its ground truth is known. */
  async settle(): Promise<void> {
    if (this.uncertain.size === 0) return;
    const db = new pg.Client({ connectionString: this.home().postgres.url });
    await db.connect();
    try {
      for (const id of this.uncertain) {
        const name = `settled-${id}`;
        await db.query('update users set name = $2 where id = $1', [id, name]);
        this.committed.set(id, name);
      }
      this.uncertain.clear();
    } finally {
      await db.end();
    }
  }

  private async reader(region: RegionEndpoints): Promise<void> {
    const pool = new pg.Pool({ connectionString: region.postgres.url, max: 1 });
    // A database shut down under the pool (a failover fences the old primary) ends its idle client.
    pool.on('error', () => undefined);
    // Fail fast while Redis is down (chaos), as an application with a timeout would.
    const redis = new Redis(region.redis.url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      commandTimeout: 1_000,
      retryStrategy: () => 200,
    });
    redis.on('error', () => {});
    this.clients.push(pool, { end: () => redis.disconnect() });
    const cache = new FabricCache(redis, { ttlSeconds: 3_600, ttlJitter: 0, leaseMs: 2_000, waitMs: 300 });
    while (this.running) {
      const id = this.ids[Math.floor(Math.random() * this.ids.length)]!;
      try {
        await cache.get(
          `user:${id}`,
          async () => (await pool.query('select name from users where id = $1', [id])).rows[0]?.name as string,
        );
        this.stats.reads++;
      } catch {
        this.stats.readErrors++;
        await sleep(50);
      }
      await sleep(2);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.allSettled(this.clients.map(async (c) => c.end()));
  }
}
