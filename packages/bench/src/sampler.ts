// CPU % and peak RSS per fabric component: reads the pid files the sandbox supervisor
// writes (<state-dir>/<region>/run/<kind>.pid), sums each pid's process tree from /proc,
// every second.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMPONENT_KINDS, type ComponentKind } from './components.js';
import { cpuPercent, rssKbOf, snapshotProcs, treeOf } from './procstat.js';

export interface ComponentUsage {
  /** "<region>/<kind>" */
  component: string;
  region: string;
  kind: ComponentKind;
  /** 100 = one core; null when sampled fewer than twice */
  avgCpuPct: number | null;
  peakRssMb: number;
}

interface Accumulated {
  cpuSum: number;
  n: number;
  peakRssKb: number;
  kind: ComponentKind;
  region: string;
}

export class ComponentSampler {
  /** component -> last reading */
  private readonly prev = new Map<string, { ticks: number; at: number; pid: number }>();
  private readonly stats = new Map<string, Accumulated>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stateDir: string,
    private readonly regions: readonly string[],
    private readonly intervalMs = 1000,
  ) {}

  private pidOf(region: string, kind: ComponentKind): number | null {
    const f = path.join(this.stateDir, region, 'run', `${kind}.pid`);
    if (!existsSync(f)) return null;
    const pid = Number(readFileSync(f, 'utf8').trim());
    return pid > 0 ? pid : null;
  }

  sampleOnce(): void {
    const procs = snapshotProcs();
    const now = performance.now();
    for (const region of this.regions) {
      for (const kind of COMPONENT_KINDS) {
        const pid = this.pidOf(region, kind);
        if (!pid || !procs.has(pid)) continue;
        const comp = `${region}/${kind}`;
        let ticks = 0;
        let rss = 0;
        for (const p of treeOf(procs, pid)) {
          ticks += procs.get(p)?.ticks ?? 0;
          rss += rssKbOf(p);
        }
        const prev = this.prev.get(comp);
        this.prev.set(comp, { ticks, at: now, pid });
        const st = this.stats.get(comp) ?? { cpuSum: 0, n: 0, peakRssKb: 0, kind, region };
        st.peakRssKb = Math.max(st.peakRssKb, rss);
        if (prev && prev.pid === pid && ticks >= prev.ticks) {
          st.cpuSum += cpuPercent(prev.ticks, ticks, now - prev.at);
          st.n++;
        }
        this.stats.set(comp, st);
      }
    }
  }

  start(): void {
    this.sampleOnce();
    this.timer = setInterval(() => this.sampleOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** Resets the averages (e.g. at the start of the measured phase). */
  reset(): void {
    this.stats.clear();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  results(): ComponentUsage[] {
    return [...this.stats.entries()].map(([component, s]) => ({
      component,
      region: s.region,
      kind: s.kind,
      avgCpuPct: s.n ? s.cpuSum / s.n : null,
      peakRssMb: s.peakRssKb / 1024,
    }));
  }
}
