// A running fabric with what the phases measure it with: probes in every region's Redis,
// the writer at the primary, Kafka lag, the CPU/RSS sampler. One per fabric the bench starts.
import type { BenchOptions } from './args.js';
import type { BenchContext } from './context.js';
import { KafkaLag } from './kafka-lag.js';
import { RegionProbe } from './probe.js';
import type { Progress } from './progress.js';
import { ComponentSampler } from './sampler.js';
import type { Fabric } from './sandbox.js';
import { Writer } from './writer.js';

export interface BenchSession {
  ctx: BenchContext;
  sampler: ComponentSampler;
  /** Closes probes, writer and lag client, then stops the fabric. */
  close(): Promise<void>;
}

/** Stops the fabric when it cannot be measured (no home region). */
export async function openSession(
  fabric: Fabric,
  opts: BenchOptions,
  stateDir: string,
  progress: Progress,
): Promise<BenchSession> {
  const regions = fabric.endpoints.regions;
  const home = regions.find((r) => r.home);
  if (!home) {
    await fabric.stop();
    throw new Error('the sandbox reports no home region');
  }
  const sampler = new ComponentSampler(
    stateDir,
    regions.map((r) => r.region),
  );
  sampler.start();
  const kafkaLag = new KafkaLag(regions);
  const probes = new Map(regions.map((r) => [r.region, new RegionProbe(r.region, r.redis.url)]));
  const writer = new Writer(
    home.postgres.url,
    Array.from({ length: opts.rows }, (_, i) => i + 1),
  );
  const ctx: BenchContext = { fabric, regions, home, probes, writer, kafkaLag, progress, opts, stateDir };
  return {
    ctx,
    sampler,
    async close() {
      sampler.stop();
      for (const p of probes.values()) await p.close().catch(() => {});
      await writer.close();
      await kafkaLag.close();
      progress('stopping the fabric');
      await fabric.stop();
    },
  };
}

/** Opens the lag client and the writer, seeds and fills the caches. */
export async function prepareSession(
  { ctx }: BenchSession,
  prime: (ctx: BenchContext) => Promise<void>,
): Promise<void> {
  await ctx.kafkaLag.open();
  await prime(ctx);
  await ctx.writer.open();
}
