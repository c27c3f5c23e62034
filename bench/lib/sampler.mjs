// Samples CPU % and RSS of each component (process tree of its pid file) every second.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { snapshotProcs, treeOf, rssKbOf, cpuPercent } from './procstat.mjs';

const KINDS = ['postgres', 'kafka', 'redis', 'cdc-reader', 'invalidator', 'control-plane'];

export class ComponentSampler {
  constructor(stateDir, regions, intervalMs = 1000) {
    this.stateDir = stateDir;
    this.regions = regions;
    this.intervalMs = intervalMs;
    this.prev = new Map(); // component -> { ticks, at }
    this.stats = new Map(); // component -> { cpuSum, n, peakRssKb }
    this.phase = 'all';
  }

  pidOf(region, kind) {
    const f = path.join(this.stateDir, region, 'run', `${kind}.pid`);
    if (!existsSync(f)) return null;
    const pid = Number(readFileSync(f, 'utf8').trim());
    return pid > 0 ? pid : null;
  }

  sampleOnce() {
    const procs = snapshotProcs();
    const now = performance.now();
    for (const region of this.regions) {
      for (const kind of KINDS) {
        const pid = this.pidOf(region, kind);
        if (!pid || !procs.has(pid)) continue;
        const comp = `${region}/${kind}`;
        const tree = treeOf(procs, pid);
        let ticks = 0;
        let rss = 0;
        for (const p of tree) {
          ticks += procs.get(p).ticks;
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

  start() {
    this.sampleOnce();
    this.timer = setInterval(() => this.sampleOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** Resets the averages (e.g. at the start of the measured phase). */
  reset() {
    this.stats.clear();
  }

  stop() {
    clearInterval(this.timer);
  }

  results() {
    return [...this.stats.entries()].map(([component, s]) => ({
      component, region: s.region, kind: s.kind,
      avgCpuPct: s.n ? s.cpuSum / s.n : null,
      peakRssMb: s.peakRssKb / 1024,
    }));
  }
}
