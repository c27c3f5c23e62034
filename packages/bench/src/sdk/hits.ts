// Warm-hit latency and throughput per core of each contender: the same warm keys, one
// caller at a time for latency, many at once for throughput.
import { summarize } from '../stats.js';
import type { ReadCache } from './read-caches.js';
import { idsOf, type RowLoader, SDK_ROWS, userKey } from './rows.js';

export interface HitResult {
  /** µs per sequential warm get */
  p50Us: number | null;
  p99Us: number | null;
  samples: number;
  /** gets/s with `concurrency` callers */
  opsPerSecond: number;
  /** gets per CPU-second of the bench process (user + system), i.e. per core */
  opsPerCpuSecond: number;
  concurrency: number;
}

export interface HitRun {
  samples: number;
  throughputMs: number;
  concurrency: number;
}

export async function measureHits(cache: ReadCache, loader: RowLoader, run: HitRun): Promise<HitResult> {
  const ids = idsOf(SDK_ROWS.hits);
  for (const id of ids) await cache.get(userKey(id), () => loader.name(id));
  // Unmeasured warm-up: the JIT and the connection, not the cache, dominate the first calls.
  for (let i = 0; i < 2000; i++) await cache.get(userKey(ids[i % ids.length]!), () => loader.name(ids[0]!));
  const loadsBefore = loader.loads;
  const us: number[] = [];
  for (let i = 0; i < run.samples; i++) {
    const id = ids[i % ids.length]!;
    const t = performance.now();
    await cache.get(userKey(id), () => loader.name(id));
    us.push((performance.now() - t) * 1000);
  }
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const caller = async (k: number): Promise<void> => {
    for (let i = k; performance.now() - t0 < run.throughputMs; i += run.concurrency) {
      const id = ids[i % ids.length]!;
      await cache.get(userKey(id), () => loader.name(id));
      ops++;
    }
  };
  await Promise.all(Array.from({ length: run.concurrency }, (_, k) => caller(k)));
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (loader.loads !== loadsBefore)
    throw new Error(
      `${cache.name}: ${loader.loads - loadsBefore} loads during the warm-hit run (a key expired or was invalidated)`,
    );
  const s = summarize(us);
  return {
    p50Us: s.p50,
    p99Us: s.p99,
    samples: s.count,
    opsPerSecond: ops / (elapsed / 1000),
    opsPerCpuSecond: ops / ((cpu.user + cpu.system) / 1e6),
    concurrency: run.concurrency,
  };
}
