import type { RegionEndpoints } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import type { InvalidatorUnderTest } from '../invalidator/harness.js';
import { eventually, withDb } from '../support.js';

/**
 * Rows of the demo's users table that one continuity test owns, and the cache entries an
 * application filled from them. An entry is stale when Redis still holds it and it differs
 * from the row in the region's database: the measure every continuity test asserts on.
 */
export class CachedUsers {
  readonly ids: number[];
  private readonly redis: Redis;

  constructor(
    private readonly region: RegionEndpoints,
    private readonly writer: RegionEndpoints,
    count: number,
  ) {
    const base = 8_000_000 + Math.floor(Math.random() * 900_000) * 10;
    this.ids = Array.from({ length: count }, (_, i) => base + i);
    this.redis = new Redis(region.redis.url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  }

  async create(): Promise<void> {
    await withDb(this.writer, (db) =>
      db.query(`insert into public.users (id, name) select unnest($1::bigint[]), 'v0'`, [this.ids]),
    );
    await this.replicated((name) => name === 'v0');
  }

  /** What the application would do on a miss: read the region's database, fill the cache. */
  async fill(ids: readonly number[] = this.ids): Promise<void> {
    const rows = await this.rows();
    const pipeline = this.redis.pipeline();
    for (const [id, name] of rows) if (ids.includes(id)) pipeline.set(`user:${id}`, name, 'EX', 3600);
    await pipeline.exec();
  }

  async update(ids: readonly number[], name: string): Promise<void> {
    await withDb(this.writer, (db) => db.query('update public.users set name = $2 where id = any($1)', [ids, name]));
    await this.replicated((n, id) => !ids.includes(id) || n === name);
  }

  /** Cached entries that disagree with the region's database. */
  async stale(): Promise<number[]> {
    const rows = await this.rows();
    const cached = await this.redis.mget(this.ids.map((id) => `user:${id}`));
    return this.ids.filter((id, i) => cached[i] !== null && cached[i] !== rows.get(id));
  }

  async cachedCount(): Promise<number> {
    return (await this.redis.mget(this.ids.map((id) => `user:${id}`))).filter((v) => v !== null).length;
  }

  async dispose(): Promise<void> {
    await withDb(this.writer, (db) => db.query('delete from public.users where id = any($1)', [this.ids]));
    await this.redis.del(...this.ids.map((id) => `user:${id}`));
    this.redis.disconnect();
  }

  private async rows(): Promise<Map<number, string>> {
    return withDb(this.region, async (db) => {
      const { rows } = await db.query<{ id: string; name: string }>(
        'select id, name from public.users where id = any($1)',
        [this.ids],
      );
      return new Map(rows.map((r) => [Number(r.id), r.name]));
    });
  }

  /** Waits for the region's database (a standby or replica) to show the writer's change. */
  private async replicated(ok: (name: string, id: number) => boolean): Promise<void> {
    await eventually('change replicated to the region', async () => {
      const rows = await this.rows();
      return rows.size === this.ids.length && [...rows].every(([id, name]) => ok(name, id)) ? true : undefined;
    });
  }
}

/** The invalidator's report of the resync, once its recovery action finished. */
export async function resyncFinished(invalidator: InvalidatorUnderTest): Promise<Record<string, unknown>> {
  return eventually(
    'resync finished',
    async () => {
      const c = (await invalidator.health()).continuity as Record<string, unknown> | undefined;
      return c?.state === 'ok' && c.reason ? c : undefined;
    },
    60_000,
  );
}
