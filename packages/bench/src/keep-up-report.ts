// The BENCHMARKS.md section of the keep-up phase: the latency run alone (--phase keep-up),
// commit → applied per region and what each component spent per 1,000 changes meanwhile.
import path from 'node:path';
import { cpuMsPerThousand, cpuTable } from './cpu-cost.js';
import { renderKeepUpAtMax } from './keep-up-max-report.js';
import { latencyTable } from './latency-table.js';
import type { MachineInfo } from './machine.js';
import { f0, row } from './markdown.js';
import { failed, type PhaseOutcome } from './phase.js';
import type { KeepUpResult } from './phases/keep-up.js';

export const KEEP_UP_SECTION = 'keep-up';

export function renderKeepUp(
  outcome: PhaseOutcome<KeepUpResult> | undefined,
  command: string,
  warmup: number,
  machine?: MachineInfo,
): string[] {
  const out = ['## Keeping up (the latency run alone)', ''];
  if (!outcome) return [...out, 'Not measured in this run.', ''];
  if (failed(outcome)) return [...out, `Failed: ${outcome.error}`, ''];
  const L = outcome.run;
  const regions = Object.keys(L.perRegion);
  out.push(
    `\`${command}\` on ${machine ? `${machine.nproc} × ${machine.cpu}, Node ${machine.node}, PostgreSQL ${machine.postgres}` : 'the machine above'}: the fabric of ${regions.join(', ')} (its home region first), the writer at ${L.rate} changes/s (batch ${L.batch}) for ${L.durationMs / 1000} s after ${warmup} s unmeasured, latency as in the full run (keyspace notifications of the version key), CPU per component from /proc over the measured run.`,
    '',
    `Achieved write rate: **${f0(L.achievedRate)} changes/s** (${L.changes} changes, ${L.writeErrors} write errors).`,
    '',
    latencyTable(L.perRegion, regions[0]),
    '',
    row(['region', "invalidator's /healthz p50 ms", 'p99 ms', 'events']),
    row(['---', '---', '---', '---']),
    ...Object.entries(outcome.healthz).map(([r, h]) =>
      row([r, f0(h.after?.p50), f0(h.after?.p99), f0(h.after?.count)]),
    ),
    '',
    ...cpuTable(outcome.resources, L.achievedRate),
    '',
  );
  const B = outcome.baseline;
  if (B) {
    const home = regions[0];
    const mine = (kind: string) => outcome.resources.find((x) => x.component === `${home}/${kind}`);
    const cost = (kind: string) => f0(cpuMsPerThousand(mine(kind)?.avgCpuPct ?? null, L.achievedRate));
    out.push(
      `Beside the sandbox's pipeline ran a second one of another build (\`${path.relative(process.cwd(), B.packages)}\`: its reader on a slot, publication and topic of its own, its invalidator in a group of its own on the region's topic, the same database and Redis), over the same measured run: CPU ms per 1,000 changes, this build / that build: reader ${cost('cdc-reader')} / ${f0(B.readerCpuMsPer1000)}, invalidator ${cost('invalidator')} / ${f0(B.invalidatorCpuMsPer1000)}. Both invalidators applied to the same Redis, so the latency above is the faster one's.`,
      '',
    );
  }
  out.push(...renderKeepUpAtMax(outcome.atMax, `${regions.join(', ')}, after the latency run`));
  out.push(...renderKeepUpAtMax(outcome.throughOutage, `${regions.join(', ')}, through a Redis outage`));
  return out;
}
