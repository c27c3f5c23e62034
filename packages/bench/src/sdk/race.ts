// The read-populates-stale race, for every contender on the same writes: a reader misses
// and loads the old row, the row changes and its keys are deleted, then the reader fills
// the old value, which stays until its TTL. The fabric's invalidator deletes `user:<id>`
// (and revokes the fill's lease); for bentocache the writer calls delete after each commit.
import type { Redis } from 'ioredis';
import { query } from '../query.js';
import { waitFor } from '../wait.js';
import { Writer } from '../writer.js';
import type { ContenderName, ReadCache } from './read-caches.js';
import { idsOf, type RowLoader, SDK_ROWS, userKey } from './rows.js';
import { CommitLog, countStaleReads, type ReadSample } from './stale-reads.js';

export interface StaleLeft {
  checked: number;
  /** served a value other than the database's after convergence */
  stale: number;
  /** not cached (a miss, never stale) */
  missing: number;
}

async function staleLeft(
  cache: ReadCache,
  ids: readonly number[],
  truth: ReadonlyMap<number, string>,
): Promise<StaleLeft> {
  const out: StaleLeft = { checked: ids.length, stale: 0, missing: 0 };
  for (const id of ids) {
    const v = await cache.peek(userKey(id));
    if (v === undefined) out.missing++;
    else if (v !== truth.get(id)) out.stale++;
  }
  return out;
}

async function truthOf(url: string, ids: readonly number[]): Promise<Map<number, string>> {
  const { rows } = await query<{ id: number; name: string }>(
    url,
    'select id::int as id, name from users where id = any($1::bigint[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.name]));
}

const versionKey = (id: number): string => `ver:user:${id}`;

export interface RaceDeps {
  postgresUrl: string;
  /** the home region's Redis, where the fabric's applied invalidations are seen */
  redis: Redis;
  loader: RowLoader;
  /** resolves when the fabric has delivered everything committed so far */
  drained: () => Promise<boolean>;
}

/**
 * Forced: every contender's reader of every key is held inside its loader (after reading
 * the old row) until the update committed, bentocache's deletes returned and the fabric's
 * invalidator bumped every row's version key. Then the fills go ahead.
 */
export async function forcedRace(
  caches: readonly ReadCache[],
  deps: RaceDeps,
  keys: number,
): Promise<Record<string, StaleLeft>> {
  const ids = idsOf(SDK_ROWS.forced).slice(0, keys);
  let loaded = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const reads = caches.flatMap((c) =>
    ids.map((id) =>
      c.get(userKey(id), async () => {
        const v = await deps.loader.name(id);
        loaded++;
        await gate;
        return v;
      }),
    ),
  );
  if ((await waitFor(() => loaded === reads.length, 60_000, 20)) === null)
    throw new Error(`forced race: only ${loaded}/${reads.length} loaders started within 60 s`);
  const before = await deps.redis.mget(ids.map(versionKey));
  const stamp = Date.now();
  await query(deps.postgresUrl, `update users set name = 'f' || id || ':' || $3 where id between $1 and $2`, [
    ids[0],
    ids.at(-1),
    stamp,
  ]);
  await Promise.all(caches.map((c) => c.afterCommit(ids.map(userKey))));
  const applied = await waitFor(
    async () => (await deps.redis.mget(ids.map(versionKey))).every((v, i) => v !== null && v !== before[i]),
    60_000,
    50,
  );
  if (applied === null) throw new Error('forced race: the fabric did not apply the update within 60 s');
  release();
  await Promise.all(reads);
  const truth = await truthOf(deps.postgresUrl, ids);
  const out: Record<string, StaleLeft> = {};
  for (const c of caches) out[c.name] = await staleLeft(c, ids, truth);
  return out;
}

export interface DrivenRun {
  /** updates/s */
  rate: number;
  seconds: number;
  /** concurrent readers per contender */
  readers: number;
  /** a read is stale when a newer value had committed this long before it started */
  graceMs: number;
}

export interface DrivenContender extends StaleLeft {
  reads: number;
  staleReads: number;
}

export interface DrivenResult extends DrivenRun {
  hotKeys: number;
  achievedRate: number;
  perContender: Partial<Record<ContenderName, DrivenContender>>;
}

/** Random rows of the hot set (two writes of one row close together are what opens the race). */
function writeOrder(ids: readonly number[], n: number): number[] {
  return Array.from({ length: n }, () => ids[Math.floor(Math.random() * ids.length)]!);
}

export async function drivenRace(caches: readonly ReadCache[], deps: RaceDeps, run: DrivenRun): Promise<DrivenResult> {
  const ids = idsOf(SDK_ROWS.race);
  const log = new CommitLog();
  const writer = new Writer(deps.postgresUrl, writeOrder(ids, Math.ceil(run.rate * run.seconds) + 100), 4);
  await writer.open();
  let writing = true;
  const samples = new Map<ContenderName, ReadSample[]>(caches.map((c) => [c.name, []]));
  const reader = async (c: ReadCache): Promise<void> => {
    const out = samples.get(c.name)!;
    while (writing) {
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      const t = performance.now();
      out.push({ id, value: await c.get(userKey(id), () => deps.loader.name(id)), t });
    }
  };
  const readers = caches.flatMap((c) => Array.from({ length: run.readers }, () => reader(c)));
  const w = await writer
    .run({
      rate: run.rate,
      batch: 1,
      durationMs: run.seconds * 1000,
      onCommit: (written, names, t) => written.forEach((id, i) => log.committed(id, names[i]!, t)),
      afterCommit: async (written) => {
        await Promise.all(caches.map((c) => c.afterCommit(written.map(userKey))));
      },
    })
    .finally(() => {
      writing = false;
    });
  await Promise.all(readers);
  await writer.close();
  if ((await waitFor(deps.drained, 60_000, 250)) === null)
    throw new Error('driven race: the fabric did not drain within 60 s');
  // Drained means delivered to the invalidators; the last events' Redis writes follow.
  await new Promise((r) => setTimeout(r, 1000));
  const truth = await truthOf(deps.postgresUrl, ids);
  const perContender: DrivenResult['perContender'] = {};
  for (const c of caches) {
    const reads = samples.get(c.name)!;
    perContender[c.name] = {
      ...(await staleLeft(c, ids, truth)),
      reads: reads.length,
      staleReads: countStaleReads(log, reads, run.graceMs),
    };
  }
  return { ...run, hotKeys: ids.length, achievedRate: w.achievedRate, perContender };
}
