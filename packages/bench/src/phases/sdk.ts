// The read side, side by side with bentocache: warm-hit latency and throughput, the
// cross-process stampede, the read-populates-stale race (forced and driven), and how long
// another instance serves the old value after an update, with and without a bus cut. Same
// Redis (the home region's), same PostgreSQL rows (the primary's users), same machine.
import { Redis } from 'ioredis';
import type { BenchContext } from '../context.js';
import { type HitResult, measureHits } from '../sdk/hits.js';
import { type L1Result, measureL1Staleness } from '../sdk/l1-staleness.js';
import { type DrivenResult, drivenRace, forcedRace, type StaleLeft } from '../sdk/race.js';
import { CONTENDERS, type ContenderName, openReadCache, type ReadCache } from '../sdk/read-caches.js';
import { RowLoader, seedSdkRows } from '../sdk/rows.js';
import { measureStampede, type StampedeResult } from '../sdk/stampede.js';
import { TcpCut } from '../sdk/tcp-cut.js';
import { waitFor } from '../wait.js';

export interface SdkResult {
  hits: Partial<Record<ContenderName, HitResult>>;
  stampede: Partial<Record<ContenderName, StampedeResult>>;
  forced: { keys: number; perContender: Partial<Record<ContenderName, StaleLeft>> };
  /** undefined when it failed (see errors) */
  driven: DrivenResult | undefined;
  l1: Partial<Record<ContenderName, L1Result>>;
  /** the measurements that failed, with why */
  errors: string[];
}

const TTL_SECONDS = 60;
/** Short enough that the cut trials end within the phase's budget: staleness ends at the TTL. */
const L1_TTL_SECONDS = 5;

async function withCaches<T>(
  names: readonly ContenderName[],
  redisUrl: string,
  region: string,
  fn: (caches: ReadCache[]) => Promise<T>,
): Promise<T> {
  const caches: ReadCache[] = [];
  try {
    for (const n of names) caches.push(await openReadCache(n, { redisUrl, region, ttlSeconds: TTL_SECONDS }));
    return await fn(caches);
  } finally {
    for (const c of caches) await c.close().catch(() => {});
  }
}

async function l1Pair(name: ContenderName, redisUrl: string, region: string, loaderTtl: number) {
  const u = new URL(redisUrl);
  const cut = new TcpCut({ host: u.hostname, port: Number(u.port) });
  const busRedisUrl = await cut.start();
  const a = await openReadCache(name, { redisUrl, region, ttlSeconds: loaderTtl });
  const b = await openReadCache(name, { redisUrl, region, ttlSeconds: loaderTtl, busRedisUrl });
  const hasBus = cut.connections > 0;
  return {
    pair: { a, b, cut: hasBus ? cut : undefined, ttlSeconds: loaderTtl },
    async close() {
      await Promise.allSettled([a.close(), b.close()]);
      await cut.stop();
    },
  };
}

export async function sdkSideBySide({ home, kafkaLag, progress }: BenchContext): Promise<SdkResult> {
  const redisUrl = home.redis.url;
  const postgresUrl = home.postgres.url;
  const region = home.region;
  progress('sdk: seeding its rows');
  await seedSdkRows(postgresUrl);
  const drained = () => kafkaLag.drained([home.region]);
  if ((await waitFor(drained, 120_000, 250)) === null)
    throw new Error('sdk: the fabric did not drain the seed within 120 s');
  const redis = new Redis(redisUrl);
  const loader = new RowLoader(postgresUrl);
  const raceLoader = new RowLoader(postgresUrl, 20);
  const errors: string[] = [];
  // One measurement failing is reported in the section; the others still run.
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      progress(`sdk: ${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };
  try {
    const hits: SdkResult['hits'] = {};
    for (const name of CONTENDERS) {
      progress(`sdk: warm hits, ${name}`);
      hits[name] = await attempt(`warm hits, ${name}`, () =>
        withCaches([name], redisUrl, region, ([c]) =>
          measureHits(c!, loader, { samples: 5000, throughputMs: 3000, concurrency: 32 }),
        ),
      );
    }
    const stampede: SdkResult['stampede'] = {};
    for (const name of CONTENDERS) {
      progress(`sdk: stampede, ${name}`);
      stampede[name] = await attempt(`stampede, ${name}`, () =>
        measureStampede(
          name,
          { redisUrl, region, postgresUrl },
          { processes: 4, concurrency: 50, trials: 20, loadMs: 50 },
        ),
      );
    }
    const deps = { postgresUrl, redis, loader, drained };
    progress('sdk: forced read-populates-stale race');
    const forcedKeys = 1000;
    const forced: SdkResult['forced'] = { keys: forcedKeys, perContender: {} };
    // Our two contenders share the key rules' keys: in one round one would wait behind the
    // other's lease instead of loading, so fabric-l1 gets a round of its own on the same rows.
    for (const round of [CONTENDERS.filter((c) => c !== 'fabric-l1'), ['fabric-l1' as const]])
      Object.assign(
        forced.perContender,
        await attempt(`forced race, ${round.join(' + ')}`, () =>
          withCaches(round, redisUrl, region, (cs) => forcedRace(cs, deps, forcedKeys)),
        ),
      );
    progress('sdk: driven read-populates-stale race');
    const driven = await attempt('driven race', () =>
      withCaches(CONTENDERS, redisUrl, region, (cs) =>
        drivenRace(cs, { ...deps, loader: raceLoader }, { rate: 100, seconds: 10, readers: 8, graceMs: 1000 }),
      ),
    );
    const l1: SdkResult['l1'] = {};
    for (const name of CONTENDERS) {
      progress(`sdk: staleness across instances, ${name}`);
      l1[name] = await attempt(`staleness across instances, ${name}`, async () => {
        const p = await l1Pair(name, redisUrl, region, L1_TTL_SECONDS);
        try {
          return await measureL1Staleness(
            p.pair,
            { postgresUrl, loader },
            { trials: 20, cutTrials: 3, cutMs: 200, capMs: (L1_TTL_SECONDS + 2) * 1000 },
          );
        } finally {
          await p.close();
        }
      });
    }
    return { hits, stampede, forced, driven, l1, errors };
  } finally {
    redis.disconnect();
    await loader.close();
    await raceLoader.close();
  }
}
