import { fromBinary, InvalidationEventSchema, Operation } from '@fabric/proto';
import type { RegionEndpoints } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

export interface RegionVerdict {
  region: string;
  /** Cached values that differ from the region's database. */
  stale: Array<{ key: string; cached: unknown; database: unknown }>;
  /** Committed changes the region never reflected: its database lacks the last committed value. */
  lost: Array<{ id: number; committed: string; database: unknown }>;
  cachedKeys: number;
}

/**
 * The consistency check after healing and quiescing: for every region, every cached user
 * equals the region's database (zero stale), and the region's database holds the last
 * value committed at the primary for every row (zero lost changes).
 */
export async function checkRegion(
  region: RegionEndpoints,
  committed: Map<number, string>,
  ids: number[],
): Promise<RegionVerdict> {
  const db = new pg.Client({ connectionString: region.postgres.url });
  await db.connect();
  const redis = new Redis(region.redis.url);
  try {
    const rows = (await db.query('select id, name from users where id = any($1::bigint[])', [ids])).rows as Array<{
      id: string;
      name: string;
    }>;
    const inDb = new Map(rows.map((r) => [Number(r.id), r.name]));
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hget(`user:${id}`, 'd');
    const cached = (await pipeline.exec())!.map(([, v]) => v as string | null);
    const stale: RegionVerdict['stale'] = [];
    let cachedKeys = 0;
    ids.forEach((id, i) => {
      const raw = cached[i];
      if (raw === null || raw === undefined) return;
      cachedKeys++;
      const value = JSON.parse(raw) as unknown;
      if (value !== inDb.get(id)) stale.push({ key: `user:${id}`, cached: value, database: inDb.get(id) });
    });
    const lost: RegionVerdict['lost'] = [];
    for (const [id, name] of committed)
      if (inDb.get(id) !== name) lost.push({ id, committed: name, database: inDb.get(id) });
    return { region: region.region, stale, lost, cachedKeys };
  } finally {
    redis.disconnect();
    await db.end();
  }
}

/**
 * Distinct UPDATE events per cache key in a region's topic, up to its current end. Event
 * ids are stable across redeliveries, so the count equals the changes the region's reader
 * saw, whatever the duplicates.
 */
export async function updateEventsPerKey(region: RegionEndpoints, prefix: string): Promise<Map<string, Set<string>>> {
  const kafka = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(region.kafka.topic)).map((p) => [p.partition, Number(p.high)]));
  await admin.disconnect();
  const seen = new Map<string, Set<string>>();
  const consumer = kafka.consumer({
    groupId: `chaos-check-${region.region}-${Date.now()}`,
    maxBytesPerPartition: 8 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: region.kafka.topic, fromBeginning: true });
  const reached = new Map<number, boolean>([...ends].map(([p, end]) => [p, end === 0]));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${region.kafka.topic} took over 60 s`)), 60_000);
    const done = () => {
      if (![...reached.values()].every(Boolean)) return;
      clearTimeout(timer);
      resolve();
    };
    done();
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (Number(m.offset) >= ends.get(batch.partition)!) continue;
          const e = fromBinary(InvalidationEventSchema, m.value!);
          if (e.operation !== Operation.UPDATE) continue;
          for (const key of e.keys) if (key.startsWith(prefix)) seen.set(key, (seen.get(key) ?? new Set()).add(e.id));
        }
        if (Number(batch.lastOffset()) + 1 >= ends.get(batch.partition)!) reached.set(batch.partition, true);
        done();
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

/**
 * Keys whose count of distinct events differs from the changes committed to them: fewer is
 * a lost change, more an event for a change that never committed. Exactly one per change.
 */
export function eventCountMismatches(
  writesPerKey: Map<string, number>,
  events: Map<string, Set<string>>,
): Array<{ key: string; writes: number; events: number }> {
  return [...writesPerKey]
    .filter(([key, n]) => (events.get(key)?.size ?? 0) !== n)
    .map(([key, n]) => ({ key, writes: n, events: events.get(key)?.size ?? 0 }));
}
