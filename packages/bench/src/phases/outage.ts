// Keys left stale after a Redis outage, per design: the fabric, the seeds' synchronous
// DEL in the write path and Redis pub/sub broadcast. For each: fill N keys everywhere,
// write those rows at a modest rate while one replica region's Redis is stopped for a
// few seconds (deploy/chaos/service.sh), bring it back with its pre-outage contents
// (what a persistent cache would hold), let the design settle and count the keys whose
// cached value differs from the region's database. For the fabric, also replay the DLQ
// with the real CLI and count again.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { RegionEndpoints } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import type { BenchContext } from '../context.js';
import { invalidatorHealth } from '../fabric-state.js';
import { fillKeys } from '../fill-keys.js';
import type { DlqReplay, OutageDesignName, OutageDesignRun, OutageResult } from '../outage-result.js';
import { PubSub } from '../pubsub.js';
import { repoPath } from '../repo-root.js';
import { currentValues } from '../seed.js';
import type { SeedDesign } from '../seed-designs.js';
import { countStale, type StaleCount, sameValues } from '../stale.js';
import { SyncDel } from '../sync-del.js';
import { waitFor } from '../wait.js';
import { Writer } from '../writer.js';

const run = promisify(execFile);
const CLI = repoPath('packages/cli/dist/bin.js');
const MAX_KEYS = 5000;
const MAX_RATE = 200;
const SETTLE_MS = 10_000;
const LEAD_MS = 1000;
const CHUNK = 1000;

const ADMIN = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  commandTimeout: 5000,
  retryStrategy: () => 50,
  lazyConnect: true,
} as const;

/** GET user:<id> for every id (null = not cached). */
async function readCache(redisUrl: string, ids: readonly number[]): Promise<Array<string | null>> {
  const r = new Redis(redisUrl, { ...ADMIN, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    const out: Array<string | null> = [];
    for (let i = 0; i < ids.length; i += CHUNK)
      out.push(...(await r.mget(...ids.slice(i, i + CHUNK).map((id) => `user:${id}`))));
    return out;
  } finally {
    r.disconnect();
  }
}

/** The region's rows once its replica has caught up with the primary (or after 30 s). */
async function regionTruth(home: RegionEndpoints, region: RegionEndpoints, n: number): Promise<Map<number, string>> {
  let truth = new Map<number, string>();
  await waitFor(
    async () => {
      const [h, r] = await Promise.all([currentValues(home.postgres.url, n), currentValues(region.postgres.url, n)]);
      truth = r;
      return sameValues(h, r);
    },
    30_000,
    200,
  );
  return truth;
}

async function staleIn(home: RegionEndpoints, region: RegionEndpoints, ids: readonly number[]): Promise<StaleCount> {
  const truth = await regionTruth(home, region, ids.length);
  return countStale(ids, await readCache(region.redis.url, ids), truth);
}

/** Tries until the restarted Redis answers; resolves to a connected client. */
async function connectWhenUp(url: string, timeoutMs = 30_000): Promise<Redis> {
  const start = performance.now();
  for (;;) {
    const r = new Redis(url, { ...ADMIN, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
      return r;
    } catch (err) {
      r.disconnect();
      if (performance.now() - start > timeoutMs)
        throw new Error(`Redis at ${url} not answering ${timeoutMs} ms after restart: ${String(err)}`);
      await sleep(20);
    }
  }
}

interface ReplayJson {
  replayed?: number | string;
  skipped?: number | string;
  notReplayable?: number | string;
  matched?: number | string;
}

export async function outages(ctx: BenchContext): Promise<OutageResult> {
  const { home, regions, kafkaLag, fabric, progress, opts } = ctx;
  const target = regions.find((r) => !r.home);
  if (!target) throw new Error('the outage phase needs a replica region');
  const n = Math.min(opts.rows, MAX_KEYS);
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const outageMs = opts.outageSeconds * 1000;
  // Each row written at most once (lead + outage + restart): a later write of the same row
  // would invalidate the key again and hide whether the earlier invalidation was lost.
  const rate = Math.max(1, Math.min(MAX_RATE, Math.floor(n / (opts.outageSeconds + LEAD_MS / 1000 + 2))));
  const result: OutageResult = { region: target.region, keys: n, rate, outageMs, settleMs: SETTLE_MS, runs: [] };
  const writer = new Writer(home.postgres.url, ids, 4);
  await writer.open();
  let invalidatorHeld = false;
  let redisDown = false;
  let rdbFile: string | undefined;
  try {
    const designs: Array<[OutageDesignName, (() => SeedDesign) | null]> = [
      ['fabric', null],
      ['sync-del', () => new SyncDel(regions)],
      ['pubsub', () => new PubSub(regions)],
    ];
    for (const [name, make] of designs) {
      if (make && !invalidatorHeld) {
        progress(`outage: holding ${target.region}'s invalidator so only the seed designs invalidate`);
        await fabric.service('stop', target.region, 'invalidator');
        invalidatorHeld = true;
      }
      if (!make) await waitFor(() => kafkaLag.drained([target.region]), 60_000, 200);
      // Fill: the current rows, in every region.
      const values = await regionTruth(home, target, n);
      for (const r of regions) {
        const c = new Redis(r.redis.url, ADMIN);
        c.on('error', () => {});
        await c.connect();
        await fillKeys(c, [...values]);
        c.disconnect();
      }
      const design = make?.();
      await design?.open();
      const before = name === 'fabric' ? await invalidatorHealth(target) : null;

      // Writes from LEAD_MS before the stop until Redis is back.
      let stopWriting = false;
      let down = false;
      let writesWhileDown = 0;
      const keysWhileDown = new Set<number>();
      const writing = writer.run({
        rate,
        batch: 1,
        durationMs: 120_000,
        stop: () => stopWriting,
        onCommit: (cids) => {
          if (!down) return;
          writesWhileDown += cids.length;
          for (const id of cids) keysWhileDown.add(id);
        },
        afterCommit: design?.afterCommit,
      });
      await sleep(LEAD_MS);

      // Redis writes its RDB on SIGTERM once a save point is set; the restart (--save '')
      // still loads it: the pre-outage values, back before any client can connect.
      const admin = new Redis(target.redis.url, ADMIN);
      admin.on('error', () => {});
      await admin.connect();
      const dir = ((await admin.config('GET', 'dir')) as string[])[1] ?? '';
      const dbfilename = ((await admin.config('GET', 'dbfilename')) as string[])[1] ?? 'dump.rdb';
      rdbFile = dir ? path.join(dir, dbfilename) : undefined;
      await admin.config('SET', 'save', '3600 1');
      const snapshot = await admin.mget(...ids.map((id) => `user:${id}`)).catch(() => null);
      admin.disconnect();
      progress(
        `outage ${name}: stopping ${target.region}'s Redis for ${outageMs / 1000} s while writing ${rate}/s to ${n} rows`,
      );
      await fabric.service('stop', target.region, 'redis');
      redisDown = true;
      const downAt = performance.now();
      down = true;
      await sleep(outageMs);
      await fabric.service('start', target.region, 'redis');
      const back = await connectWhenUp(target.redis.url);
      const downMs = performance.now() - downAt;
      down = false;
      redisDown = false;
      stopWriting = true;
      // Check the RDB was loaded; otherwise put the snapshot back by hand.
      let restored: OutageDesignRun['restored'] = 'rdb';
      if ((await back.dbsize()) === 0 && snapshot) {
        restored = 'written';
        const p = back.pipeline();
        snapshot.forEach((v, i) => {
          if (v !== null) p.set(`user:${ids[i]}`, v);
        });
        await p.exec();
      }
      back.disconnect();
      // A later restart must start cold again, as the sandbox intends.
      if (rdbFile) rmSync(rdbFile, { force: true });
      const w = await writing;

      progress(
        `outage ${name}: Redis back after ${(downMs / 1000).toFixed(1)} s (${restored === 'rdb' ? 'pre-outage values loaded from its RDB' : 'pre-outage values written back'}); ${writesWhileDown} writes while down; settling ${SETTLE_MS / 1000} s`,
      );
      await sleep(SETTLE_MS);
      const after = name === 'fabric' ? await invalidatorHealth(target) : null;
      const kafkaLagAtCount = name === 'fabric' ? await kafkaLag.lag(target.region) : null;
      const stale = await staleIn(home, target, ids);
      const runResult: OutageDesignRun = {
        design: name,
        writes: w.changes,
        writesWhileDown,
        keysWrittenWhileDown: keysWhileDown.size,
        failures:
          name === 'fabric'
            ? Math.max(0, (after?.retries ?? 0) - (before?.retries ?? 0))
            : (design?.failures.get(target.region) ?? 0),
        deadLettered: name === 'fabric' ? (after && before ? after.deadLettered - before.deadLettered : null) : null,
        downMs,
        restored,
        kafkaLagAtCount,
        stale,
      };
      progress(
        `outage ${name}: ${stale.stale} stale of ${n} keys (${stale.missing} not cached), ${runResult.failures} failed invalidations${runResult.deadLettered === null ? '' : `, ${runResult.deadLettered} dead-lettered`}`,
      );
      design?.close();
      if (name === 'fabric') runResult.replay = await replayDlq(ctx, target, ids);
      result.runs.push(runResult);
    }
  } finally {
    if (redisDown) await fabric.service('start', target.region, 'redis').catch(() => '');
    if (rdbFile) rmSync(rdbFile, { force: true });
    if (invalidatorHeld) await fabric.service('start', target.region, 'invalidator').catch(() => '');
    await writer.close();
  }
  return result;
}

/** `fabric dlq replay --region R --json` with the real CLI, then the stale count again. */
async function replayDlq(ctx: BenchContext, target: RegionEndpoints, ids: readonly number[]): Promise<DlqReplay> {
  const { home, kafkaLag, progress, stateDir } = ctx;
  progress(`outage fabric: fabric dlq replay --region ${target.region}`);
  let parsed: ReplayJson = {};
  let error: string | undefined;
  try {
    const { stdout } = await run(
      process.execPath,
      [CLI, 'dlq', 'replay', '--region', target.region, '--state-dir', stateDir, '--json'],
      { maxBuffer: 1 << 26, timeout: 120_000 },
    );
    const line = stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    parsed = line ? (JSON.parse(line) as ReplayJson) : {};
  } catch (err) {
    // The CLI says why on stderr; the message's first line is only the command.
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').pop();
    error = stderr || (err instanceof Error ? err.message.split('\n')[0] : String(err));
  }
  const drainMs = await waitFor(() => kafkaLag.drained([target.region]), 30_000, 200);
  await sleep(2000);
  const after = await staleIn(home, target, ids);
  const num = (v: number | string | undefined): number => Number(v ?? 0);
  const out: DlqReplay = {
    replayed: num(parsed.replayed),
    skipped: num(parsed.skipped),
    notReplayable: num(parsed.notReplayable),
    matched: num(parsed.matched),
    drainMs,
    after,
    ...(error ? { error } : {}),
  };
  progress(
    `outage fabric: replayed ${out.replayed} dead letters${error ? ` (failed: ${error})` : ''}; ${after.stale} stale after the replay`,
  );
  return out;
}
