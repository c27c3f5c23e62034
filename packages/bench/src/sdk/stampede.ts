// The cross-process stampede: N processes, each with its own cache instance, send M
// concurrent gets of one cold key at once; the loaders' Redis counter says how many
// database loads that cost. A per-process lock (bentocache) gives N; a lease in Redis, 1.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { ContenderName } from './read-caches.js';
import { SDK_ROWS } from './rows.js';
import { type FromWorker, loadCounterKey, type StampedeWorkerConfig, type ToWorker } from './stampede-protocol.js';

export interface StampedeRun {
  processes: number;
  concurrency: number;
  trials: number;
  loadMs: number;
}

export interface StampedeResult extends StampedeRun {
  /** database loads per trial */
  loads: number[];
  /** gets that threw, over all trials */
  errors: number;
  firstError?: string;
}

const WORKER = new URL('./stampede-worker.js', import.meta.url);

function next(child: ChildProcess, type: FromWorker['type']): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker): void => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null): void => reject(new Error(`stampede worker exited with ${code}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function measureStampede(
  contender: ContenderName,
  urls: { redisUrl: string; region: string; postgresUrl: string },
  run: StampedeRun,
): Promise<StampedeResult> {
  const cfg: StampedeWorkerConfig = {
    contender,
    ...urls,
    concurrency: run.concurrency,
    ttlSeconds: 60,
    loadMs: run.loadMs,
  };
  const children = Array.from({ length: run.processes }, () =>
    fork(WORKER, [], {
      env: { ...process.env, BENCH_STAMPEDE: JSON.stringify(cfg) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const redis = new Redis(urls.redisUrl);
  const out: StampedeResult = { ...run, loads: [], errors: 0 };
  try {
    await Promise.all(children.map((c) => next(c, 'ready')));
    const stamp = Date.now();
    for (let trial = 0; trial < run.trials; trial++) {
      const key = `stampede:${contender}:${stamp}:${trial}`;
      const counter = loadCounterKey(key);
      const msg: ToWorker = { type: 'trial', key, id: SDK_ROWS.stampede.from, counter };
      const done = children.map((c) => next(c, 'done'));
      for (const c of children) c.send(msg);
      for (const d of await Promise.all(done))
        if (d.type === 'done' && d.errors > 0) {
          out.errors += d.errors;
          out.firstError ??= d.firstError;
        }
      out.loads.push(Number((await redis.get(counter)) ?? 0));
      await redis.del(counter);
    }
  } finally {
    for (const c of children) if (c.connected) c.send({ type: 'exit' } satisfies ToWorker);
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
    redis.disconnect();
  }
  return out;
}
