// CPU and memory of processes from /proc. Parsing is pure; sampling reads /proc.
import { readFileSync, readdirSync } from 'node:fs';

/** utime+stime (clock ticks) and ppid from the text of /proc/<pid>/stat. */
export function parseStat(text) {
  // comm (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state), so field N is rest[N-3].
  return { ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
}

/** VmRSS in kB from the text of /proc/<pid>/status (0 if absent, e.g. a zombie). */
export function parseVmRssKb(text) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** CPU % between two tick readings over wallMs (100% = one core). */
export function cpuPercent(ticksBefore, ticksAfter, wallMs, clkTck = 100) {
  if (wallMs <= 0) return 0;
  return (((ticksAfter - ticksBefore) / clkTck) * 1000 * 100) / wallMs;
}

function read(path) {
  try { return readFileSync(path, 'utf8'); } catch { return null; }
}

/** Every live pid with its ppid, ticks and RSS. */
export function snapshotProcs() {
  const procs = new Map();
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
export function treeOf(procs, root) {
  const children = new Map();
  for (const [pid, p] of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    if (!procs.has(pid)) continue;
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

export function rssKbOf(pid) {
  const t = read(`/proc/${pid}/status`);
  return t ? parseVmRssKb(t) : 0;
}
