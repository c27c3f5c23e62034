// One process of the cross-process stampede (forked by phases/sdk.ts): its own cache
// instance, M concurrent gets of the trial's cold key on each command. Every execution of
// the loader INCRs a counter in Redis, so the parent counts database loads across processes.
import { Redis } from 'ioredis';
import pg from 'pg';
import { openReadCache } from './read-caches.js';
import type { FromWorker, StampedeWorkerConfig, ToWorker } from './stampede-protocol.js';

const cfg = JSON.parse(process.env.BENCH_STAMPEDE ?? '{}') as StampedeWorkerConfig;
const send = (m: FromWorker): void => void process.send?.(m);
const counters = new Redis(cfg.redisUrl);
const db = new pg.Pool({ connectionString: cfg.postgresUrl, max: 4 });
const cache = await openReadCache(cfg.contender, {
  redisUrl: cfg.redisUrl,
  region: cfg.region,
  ttlSeconds: cfg.ttlSeconds,
});

process.on('message', (m: ToWorker) => {
  if (m.type === 'exit') {
    void Promise.allSettled([cache.close(), db.end()]).then(() => {
      counters.disconnect();
      process.exit(0);
    });
    return;
  }
  const load = async (): Promise<string> => {
    await counters.incr(m.counter);
    const { rows } = await db.query<{ name: string }>(
      'select name from users, pg_sleep($2::float8 / 1000) where id = $1',
      [m.id, cfg.loadMs],
    );
    return rows[0]?.name ?? '';
  };
  void Promise.allSettled(Array.from({ length: cfg.concurrency }, () => cache.get(m.key, load))).then((outs) => {
    const failed = outs.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    send({ type: 'done', errors: failed.length, firstError: failed[0] ? String(failed[0].reason) : undefined });
  });
});
send({ type: 'ready' });
