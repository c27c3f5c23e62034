// The BENCHMARKS.md section of the drain phase: a backlog emptied by one and two invalidators
// beside the physical limit of the same commands on the same Redis.
import path from 'node:path';
import type { MachineInfo } from './machine.js';
import { f0, row } from './markdown.js';
import { failed, type PhaseOutcome } from './phase.js';
import type { DrainResult } from './phases/drain.js';

export const DRAIN_SECTION = 'drain';

const f1 = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : v.toFixed(1));
const pct = (v: number | null | undefined): string =>
  v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(0)} %`;

export function renderDrain(
  outcome: PhaseOutcome<DrainResult> | undefined,
  command: string,
  machine?: MachineInfo,
): string[] {
  const out = ['## Draining a backlog', ''];
  if (!outcome) return [...out, 'Not measured in this run.', ''];
  if (failed(outcome)) return [...out, `Failed: ${outcome.error}`, ''];
  const R = outcome;
  out.push(
    `\`${command}\` on ${machine ? `${machine.nproc} × ${machine.cpu}, Node ${machine.node}, Redis ${machine.redis}` : 'the machine above'}. A fresh topic of ${R.partitions} partitions is filled with ${R.events} events as the reader renders the demo rules for an UPDATE of a \`users\` row (3 keys, the team tag, the version key), then drained by the built invalidator (default flags, a fresh group). The window opens once the group is stable and has committed, and closes when every offset is committed; events and CPU (/proc, user + system) count inside it only. The physical limit is the same command mix (the invalidator's own plan per chunk of 500, \`batchCommandMix\`: ${R.limit.commandsPerEvent.toFixed(2)} commands per event) pipelined by a bare ioredis loop with ${R.partitions} chunks in flight, on the same Redis: nothing decoded, tallied or committed.`,
    '',
    row(['run', 'events in window', 'events/s', 'CPU ms / 1,000 events', 'of the physical limit']),
    row(['---', '---', '---', '---', '---']),
    row(['physical limit (pipelined ioredis)', R.events, f0(R.limit.eventsPerSecond), 'n/a', '100 %']),
  );
  for (const r of R.runs)
    out.push(
      row([
        `${r.instances} invalidator(s), one group`,
        r.events,
        f0(r.eventsPerSecond),
        f1(r.cpuMsPer1000),
        pct(r.eventsPerSecond / R.limit.eventsPerSecond),
      ]),
    );
  if (R.baseline)
    out.push(
      row([
        'baseline build, 1 invalidator',
        R.baseline.events,
        f0(R.baseline.eventsPerSecond),
        f1(R.baseline.cpuMsPer1000),
        pct(R.baseline.eventsPerSecond / R.limit.eventsPerSecond),
      ]),
    );
  out.push('', `Two instances / one: ${R.twoOverOne === null ? 'n/a' : `${R.twoOverOne.toFixed(2)} ×`}.`, '');
  const steady = R.runs[0]?.steadyCpuMsPer1000;
  if (steady !== undefined)
    out.push(
      `Keeping up instead of catching up (the drained instance, 1000 events/s in sends of 10 for 10 s): ${f1(steady)} ms CPU per 1,000 events.`,
      '',
    );
  const paired = R.steadyPaired;
  if (paired && paired.length > 0) {
    const ratios = paired.map((r) => r.current / r.baseline).sort((a, b) => a - b);
    out.push(
      `The same, this build and the baseline side by side (each in its drained group, one trickle, both at once, ${paired.length} rounds of 10 s), CPU ms per 1,000 events: this build ${paired.map((r) => f0(r.current)).join(', ')}; baseline ${paired.map((r) => f0(r.baseline)).join(', ')}; this build / baseline, median of the rounds: ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)} ×. (The baseline alone, after its own drain: ${f1(R.baseline?.steadyCpuMsPer1000)} ms.)`,
      '',
    );
  }
  const idle = R.runs[0]?.idleMs;
  if (idle && idle.length > 0)
    out.push(
      `Idle, one event at a time into the drained topic, send → key gone (the consumer's share of commit→applied): p50 ${f1(idle[Math.floor(idle.length / 2)])} ms, max ${f1(idle[idle.length - 1])} ms over ${idle.length}.`,
      '',
    );
  for (const [what, p] of [
    ['draining', R.profile],
    ['keeping up (1000 events/s)', R.steadyProfile],
  ] as const) {
    if (!p) continue;
    const s = p.shares;
    out.push(
      `Profile of one instance ${what} (\`--cpu-prof\`, ${path.relative(process.cwd(), p.file)}), share of busy samples: kafkajs ${f1(s.kafkajs)} %, ioredis ${f1(s.ioredis)} %, protobuf ${f1(s.protobuf)} %, prom-client ${f1(s['prom-client'])} %, pino ${f1(s.pino)} %, fabric ${f1(s.fabric)} %, Node itself (GC, sockets, buffers) ${f1(s.node)} %.`,
      '',
      row(['self time', 'function']),
      row(['---', '---']),
      ...p.top.map((t) => row([`${t.pct.toFixed(1)} %`, `\`${t.fn}\``])),
      '',
    );
  }
  return out;
}
