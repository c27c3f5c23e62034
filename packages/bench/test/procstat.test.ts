import { describe, expect, it } from 'vitest';
import { cpuPercent, parseStat, parseVmRssKb, treeOf } from '../src/procstat.js';

describe('/proc parsing', () => {
  it('parses stat with spaces and parentheses in comm', () => {
    const text = '1234 (node (worker) x) S 42 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 500 0 0';
    expect(parseStat(text)).toEqual({ ppid: 42, utime: 250, stime: 75 });
  });
  it('parses VmRSS', () => {
    expect(parseVmRssKb('Name:\tnode\nVmPeak:\t 999 kB\nVmRSS:\t  123456 kB\n')).toBe(123456);
    expect(parseVmRssKb('Name:\tzombie\n')).toBe(0);
  });
  it('cpu percent: 50 ticks over 1 s at 100 Hz is half a core', () => {
    expect(cpuPercent(100, 150, 1000, 100)).toBeCloseTo(50);
  });
  it('collects a process tree', () => {
    const procs = new Map([
      [1, { ppid: 0 }],
      [10, { ppid: 1 }],
      [11, { ppid: 10 }],
      [20, { ppid: 1 }],
    ]);
    expect(treeOf(procs, 10).sort()).toEqual([10, 11]);
  });
});
