// Keeping up with the primary at its maximum: pgbench at full speed at the home region's
// primary while the fabric runs, with the primary's WAL position, what each region's reader
// had acknowledged, what its topic holds and what its invalidator applied sampled four
// times a second, and the CPU of every component over the run. See keep-up-judge.ts for what counts as keeping up.
import { setTimeout as sleep } from 'node:timers/promises';
import { bigIntToLsn, lsnReached, lsnToBigInt } from '@fabric/contracts';
import type { RegionEndpoints } from '@fabric/sandbox';
import type { BenchContext } from '../context.js';
import { readerHealth } from '../fabric-state.js';
import { judgeKeepUp, type KeepUpJudgement, type KeepUpSample } from '../keep-up-judge.js';
import { type PgbenchResult, pgbench } from '../pgbench.js';
import { query } from '../query.js';
import type { ComponentSampler, ComponentUsage } from '../sampler.js';
import { waitFor } from '../wait.js';

export interface KeepUpMaxRegion extends KeepUpJudgement {
  /** pgbench's end → the region's reader confirmed pgbench's last WAL position and its invalidator applied all it published; null if not within 120 s */
  drainMs: number | null;
  samples: KeepUpSample[];
}

export interface KeepUpMaxResult {
  pgbench: PgbenchResult;
  /** the fault the run went through, if any */
  outage?: RedisOutage & { heldMs: number };
  regions: Record<string, KeepUpMaxRegion>;
  resources: ComponentUsage[];
}

const SAMPLE_MS = 250;
const CLIENTS = 16;

interface Counts {
  wal: bigint;
  /** region -> its reader's acknowledged WAL position, events in its topic, events its group committed (undefined: no answer) */
  regions: Map<string, { confirmed: bigint; published: number; applied: number } | undefined>;
}

/** A region's Redis stopped `afterMs` into the pgbench run, for `downMs`. */
export interface RedisOutage {
  region: string;
  afterMs: number;
  downMs: number;
}

export async function keepUpAtMax(
  ctx: BenchContext,
  sampler: ComponentSampler,
  outage?: RedisOutage,
): Promise<KeepUpMaxResult> {
  const { home, regions, kafkaLag, progress, opts, fabric } = ctx;
  const seconds = outage
    ? Math.ceil((outage.afterMs + outage.downMs) / 1000) + 5
    : Math.max(5, Math.min(20, opts.duration));
  const walNow = async () =>
    lsnToBigInt(
      (await query<{ l: string }>(home.postgres.url, 'select pg_current_wal_lsn()::text as l')).rows[0]?.l ?? '0/0',
    );
  const regionNow = async (r: RegionEndpoints) => {
    const [status, published, applied] = await Promise.all([
      readerHealth(r),
      kafkaLag.topicEnd(r.region, r.kafka.topic),
      kafkaLag.committedTotal(r.region),
    ]);
    if (!status?.confirmedLsn || published === null || applied === null) return undefined;
    return { confirmed: lsnToBigInt(status.confirmedLsn), published, applied };
  };
  const read = async (): Promise<Counts> => {
    const [wal, ...perRegion] = await Promise.all([walNow(), ...regions.map(regionNow)]);
    return {
      wal: wal as bigint,
      regions: new Map(regions.map((r, i) => [r.region, perRegion[i] as Awaited<ReturnType<typeof regionNow>>])),
    };
  };

  const base = await read();
  const samples = new Map<string, KeepUpSample[]>(regions.map((r) => [r.region, []]));
  const startedAt = performance.now();
  let running = true;
  const sampling = (async () => {
    while (running) {
      const now = await read().catch(() => undefined);
      const atMs = performance.now() - startedAt;
      for (const [region, c] of now?.regions ?? []) {
        const b = base.regions.get(region);
        if (!c || !b) continue;
        samples.get(region)!.push({
          atMs,
          wal: Number(now!.wal - base.wal),
          confirmed: Number(c.confirmed - base.wal),
          published: c.published - b.published,
          // From the same origin as published, so published − applied is the group's lag itself.
          applied: c.applied - b.published,
        });
      }
      await sleep(SAMPLE_MS);
    }
  })();
  progress(
    `keep-up at the maximum: pgbench, ${CLIENTS} clients, ${seconds} s, the fabric sampled every ${SAMPLE_MS} ms`,
  );
  sampler.reset();
  let result: PgbenchResult;
  let heldMs = 0;
  // The fault, beside pgbench: what the workers hold meanwhile is what its peak RSS shows.
  const fault = outage
    ? (async () => {
        await sleep(outage.afterMs);
        progress(`keep-up at the maximum: ${outage.region} Redis down for ${outage.downMs / 1000} s`);
        const stopped = performance.now();
        await fabric.service('stop', outage.region, 'redis');
        await sleep(Math.max(0, outage.downMs - (performance.now() - stopped)));
        await fabric.service('start', outage.region, 'redis');
        heldMs = performance.now() - stopped;
      })()
    : Promise.resolve();
  try {
    [result] = await Promise.all([pgbench(home, { rows: opts.rows, seconds, clients: CLIENTS }), fault]);
  } finally {
    running = false;
    await sampling;
    await fault.catch(() => {});
  }
  const resources = sampler.results();
  const endLsn = bigIntToLsn(await walNow());
  const drained = await Promise.all(
    regions.map(async (r) => {
      const ms = await waitFor(
        async () => lsnReached((await readerHealth(r))?.confirmedLsn, endLsn) && (await kafkaLag.lag(r.region)) === 0,
        120_000,
        50,
      );
      return [r.region, ms] as const;
    }),
  );
  const out: Record<string, KeepUpMaxRegion> = {};
  for (const [region, drainMs] of drained) {
    const own = samples.get(region) ?? [];
    const judged = judgeKeepUp(own);
    out[region] = { ...judged, drainMs, samples: own };
    progress(
      `keep-up at the maximum: ${region} ratio ${judged.ratio.toFixed(2)} (reader ${judged.readerRatio.toFixed(2)}, invalidator ${judged.invalidatorRatio.toFixed(2)}), ${judged.reason}, drained ${drainMs === null ? 'not within 120 s' : `${drainMs.toFixed(0)} ms after pgbench ended`}`,
    );
  }
  return { pgbench: result, regions: out, resources, ...(outage ? { outage: { ...outage, heldMs } } : {}) };
}
