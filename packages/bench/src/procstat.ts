// CPU and memory of processes from /proc. Parsing is pure; sampling reads /proc.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  ppid: number;
  utime: number;
  stime: number;
}

export interface ProcInfo extends ProcStat {
  /** utime + stime, clock ticks */
  ticks: number;
  rssKb: number | null;
}

/** utime+stime (clock ticks) and ppid from the text of /proc/<pid>/stat. */
export function parseStat(text: string): ProcStat {
  // comm (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const close = text.lastIndexOf(')');
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state), so field N is rest[N-3].
  return { ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
}

/** CPU a live process has used so far, utime + stime in clock ticks; 0 once it is gone. */
export function processTicks(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const s = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return s.utime + s.stime;
  } catch {
    return 0;
  }
}

/** VmRSS in kB from the text of /proc/<pid>/status (0 if absent, e.g. a zombie). */
export function parseVmRssKb(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** CPU % between two tick readings over wallMs (100% = one core). */
export function cpuPercent(ticksBefore: number, ticksAfter: number, wallMs: number, clkTck = 100): number {
  if (wallMs <= 0) return 0;
  return (((ticksAfter - ticksBefore) / clkTck) * 1000 * 100) / wallMs;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Every live pid with its ppid, ticks and RSS. */
export function snapshotProcs(): Map<number, ProcInfo> {
  const procs = new Map<number, ProcInfo>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue;
    const s = parseStat(stat);
    procs.set(Number(name), { ...s, ticks: s.utime + s.stime, rssKb: null });
  }
  return procs;
}

/** pid and all its descendants in a snapshot. */
export function treeOf(procs: ReadonlyMap<number, { ppid: number }>, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) {
    const siblings = children.get(p.ppid);
    if (siblings) siblings.push(pid);
    else children.set(p.ppid, [pid]);
  }
  const out: number[] = [];
  const stack = [root];
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    if (!procs.has(pid)) continue;
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

export function rssKbOf(pid: number): number {
  const t = read(`/proc/${pid}/status`);
  return t ? parseVmRssKb(t) : 0;
}
