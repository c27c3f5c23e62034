// The report's profile findings, derived from the measured top self-time functions: what
// dominates each profiled worker and a one-line reading of it. Pure.
import type { SelfTime } from './cpuprofile.js';
import { PROFILED_KINDS, type ProfileResult, type WorkerProfile } from './profile-result.js';

/** Where a self-time entry's time went. */
export type Origin = 'idle' | 'gc' | 'program' | 'own' | 'dependency' | 'node' | 'native' | 'other';

/** Classifies a topSelfTime() entry by its "<function> <file:line>" text. */
export function originOf(fn: string): Origin {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(program)' || fn === '(root)') return 'program';
  const where = / (\S+:\d+)$/.exec(fn)?.[1];
  if (where === undefined) return 'native'; // no script location: V8 builtins and native bindings
  if (where.startsWith('packages/')) return 'own';
  if (where.startsWith('node_modules/')) return 'dependency';
  if (where.startsWith('node:')) return 'node';
  return 'other';
}

const pct = (v: number): string => `${v.toFixed(1)} %`;
const listed = (xs: readonly SelfTime[]): string => xs.map((t) => `\`${t.fn}\` ${pct(t.pct)}`).join(', ');
const sumPct = (xs: readonly SelfTime[]): number => xs.reduce((a, t) => a + t.pct, 0);

/** The one-line reading of a worker's idle share. */
export function cpuVerdict(idlePct: number): string {
  if (idlePct >= 50)
    return 'its own CPU is not what limits latency: it mostly waits (broker/database round trips, or a contended machine)';
  if (idlePct >= 20)
    return 'partly busy: CPU matters but is not saturated, so both its hot functions and its round trips count';
  return 'CPU-bound: it saturates its core, so the hottest functions below bound its throughput';
}

/** One bullet for a worker: idle share and verdict, its top functions, our hottest code, GC. */
export function workerFinding(kind: string, profile: WorkerProfile): string {
  if ('error' in profile) return `* **${kind}**: no profile (${profile.error}).`;
  const idle = profile.top.find((t) => originOf(t.fn) === 'idle')?.pct ?? 0;
  const busy = profile.top.filter((t) => originOf(t.fn) !== 'idle');
  const own = busy.filter((t) => originOf(t.fn) === 'own');
  const gc = busy.filter((t) => originOf(t.fn) === 'gc');
  const parts = [`* **${kind}**: ${pct(idle)} idle — ${cpuVerdict(idle)}.`];
  if (busy.length) parts.push(`Top self time: ${listed(busy.slice(0, 3))}.`);
  parts.push(
    own.length
      ? `Hottest in our code: ${listed(own.slice(0, 3))} (${pct(sumPct(own))} in our code among the top ${busy.length}).`
      : `None of our code is among the top ${busy.length}.`,
  );
  const gcPct = sumPct(gc);
  parts.push(
    gc.length
      ? `GC ${pct(gcPct)}${gcPct >= 10 ? ': allocation pressure worth reducing' : ', not a concern'}.`
      : `GC is not among the top ${busy.length}.`,
  );
  return parts.join(' ');
}

/** The "Findings" subsection of the profile: one bullet per worker, plus a load caveat. */
export function renderFindings(P: ProfileResult): string[] {
  const out = ['### Findings (generated from the profile above)', ''];
  for (const kind of PROFILED_KINDS) out.push(workerFinding(kind, P[kind]));
  if (P.achievedRate < 0.9 * P.rate) {
    out.push(
      `* The writer achieved ${P.achievedRate.toFixed(0)} of the ${P.rate}/s it targeted, so the profiled workers carried less load than intended.`,
    );
  }
  return out;
}
