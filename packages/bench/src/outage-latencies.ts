// Per design, the outage region's commit→invalidated latency from the latency run (fabric)
// and the seed-design baselines, for the outage table. Pure.
import type { DesignLatencies } from './outage-report.js';
import { succeeded } from './phase.js';
import type { BenchResults } from './results.js';

export function outageLatencies(R: Pick<BenchResults, 'latency' | 'baselines'>, region: string): DesignLatencies {
  const out: DesignLatencies = {};
  const fabric = R.latency?.perRegion[region];
  if (fabric) out.fabric = { p50: fabric.p50, p99: fabric.p99 };
  const b = succeeded(R.baselines);
  for (const name of ['sync-del', 'pubsub'] as const) {
    const s = b?.[name]?.perRegion[region];
    if (s) out[name] = { p50: s.p50, p99: s.p99 };
  }
  return out;
}
