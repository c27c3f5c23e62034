// How long another instance keeps serving the old value after an update: instance A (the
// writer's) and instance B (a reader elsewhere) both hold the row; the row changes, A does
// what its cache asks after a commit, and B is polled until it serves the new value. In the
// cut trials B's bus connection goes through a TcpCut that drops it just before the update
// and refuses it for cutMs, so the delete's message is published while B is away.
import { query } from '../query.js';
import { waitFor } from '../wait.js';
import type { ReadCache } from './read-caches.js';
import { idsOf, type RowLoader, SDK_ROWS, userKey } from './rows.js';
import type { TcpCut } from './tcp-cut.js';

export interface L1Run {
  trials: number;
  cutTrials: number;
  cutMs: number;
  /** polling gives up here (past B's TTL, which ends any staleness) */
  capMs: number;
}

export interface L1Result extends L1Run {
  /** ms B served the old value after A's commit; null = still old at capMs */
  staleMs: (number | null)[];
  staleMsCut: (number | null)[];
  ttlSeconds: number;
}

export interface L1Pair {
  a: ReadCache;
  b: ReadCache;
  /** the proxy B's bus goes through; undefined when the contender has no bus */
  cut?: TcpCut;
  ttlSeconds: number;
}

async function oneTrial(
  pair: L1Pair,
  deps: { postgresUrl: string; loader: RowLoader },
  id: number,
  run: L1Run,
  cut: boolean,
) {
  const key = userKey(id);
  const load = () => deps.loader.name(id);
  const old = await pair.a.get(key, load);
  await pair.b.get(key, load);
  // bentocache tells the other instances about every set, which drops their L1 copy of the
  // key: let A's and B's messages land, then B reads again and holds the row in its L1.
  await new Promise((r) => setTimeout(r, 100));
  if ((await pair.b.get(key, load)) !== old) throw new Error(`L1 staleness: B does not hold ${key} before the trial`);
  if (cut) pair.cut?.cut(run.cutMs);
  const fresh = `u${id}:${Date.now()}`;
  await query(deps.postgresUrl, 'update users set name = $2 where id = $1', [id, fresh]);
  const t0 = performance.now();
  await pair.a.afterCommit([key]);
  const waited = await waitFor(async () => (await pair.b.get(key, load)) === fresh, run.capMs, 2);
  return waited === null ? null : performance.now() - t0;
}

export async function measureL1Staleness(
  pair: L1Pair,
  deps: { postgresUrl: string; loader: RowLoader },
  run: L1Run,
): Promise<L1Result> {
  const ids = idsOf(SDK_ROWS.l1);
  const out: L1Result = { ...run, staleMs: [], staleMsCut: [], ttlSeconds: pair.ttlSeconds };
  let next = 0;
  for (let i = 0; i < run.trials; i++) out.staleMs.push(await oneTrial(pair, deps, ids[next++]!, run, false));
  if (pair.cut)
    for (let i = 0; i < run.cutTrials; i++) {
      out.staleMsCut.push(await oneTrial(pair, deps, ids[next++]!, run, true));
      // B's bus reconnects by itself once the proxy accepts again; the next trial needs it.
      const cut = pair.cut;
      if ((await waitFor(() => cut.connections > 0, 10_000, 20)) === null)
        throw new Error('L1 staleness: the bus did not reconnect within 10 s of the cut');
      await new Promise((r) => setTimeout(r, 300));
    }
  return out;
}
