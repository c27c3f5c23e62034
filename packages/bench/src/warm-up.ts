// Load before measuring: the Kafka JVMs compile their hot paths during the first minute
// under load, and a run that starts cold measures the JIT as much as the pipeline.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from './context.js';
import { waitFor } from './wait.js';

export async function warmUp(
  { writer, regions, kafkaLag, progress, opts }: BenchContext,
  label: string,
): Promise<void> {
  if (opts.warmup === 0) return;
  progress(`${label}: warm-up, ${opts.rate} changes/s for ${opts.warmup} s (not measured)`);
  await writer.run({ rate: opts.rate, batch: opts.batch, durationMs: opts.warmup * 1000 });
  await waitFor(() => kafkaLag.drained(regions.map((r) => r.region)), 60_000, 250);
  await sleep(1000);
}
