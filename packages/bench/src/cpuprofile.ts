// Top self-time functions of a V8 .cpuprofile. Pure apart from reading the file.
import { readFileSync } from 'node:fs';
import type { Profiler } from 'node:inspector';

export interface SelfTime {
  /** "<function> <file:line>", file relative to packages/ or node_modules/ when inside them */
  fn: string;
  /** share of all samples, % */
  pct: number;
  /** self time, ms */
  ms: number;
}

/** (idle) first, then the n functions with the most self time. */
export function topSelfTime(profile: Profiler.Profile, n = 15): SelfTime[] {
  const total = profile.endTime - profile.startTime; // µs
  const hits = profile.nodes.reduce((a, x) => a + (x.hitCount ?? 0), 0) || 1;
  const byFn = new Map<string, number>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const where = f.url
      ? `${f.url.replace(/^file:\/\//, '').replace(/^.*\/(packages|node_modules)\//, '$1/')}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  const idle = byFn.get('(idle)') ?? 0;
  byFn.delete('(idle)');
  return [
    { fn: '(idle)', pct: (100 * idle) / hits, ms: (total / 1000) * (idle / hits) },
    ...[...byFn.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([fn, h]) => ({ fn, pct: (100 * h) / hits, ms: (total / 1000) * (h / hits) })),
  ];
}

/** Parses a .cpuprofile file (V8's JSON, trusted to have the Profiler.Profile shape). */
export const readProfile = (file: string): Profiler.Profile =>
  JSON.parse(readFileSync(file, 'utf8')) as Profiler.Profile;
