// Parsing DebeziumProbe's output and the comparison numbers. Pure.
import { type LatencySummary, summarize } from './stats.js';

export interface ProbeLine {
  /** source.ts_ms: the commit time at the primary, epoch ms */
  commitMs: number;
  /** when the engine handed the change to the probe, epoch ms */
  seenMs: number;
}

/** "C <ts_ms> <seen>" -> the change; anything else (READY, DONE, logs) -> null. */
export function parseProbeLine(line: string): ProbeLine | null {
  const m = /^C (-?\d+) (\d+)$/.exec(line.trim());
  if (!m) return null;
  return { commitMs: Number(m[1]), seenMs: Number(m[2]) };
}

export interface StreamStats {
  changes: number;
  /** changes / (last seen − first seen), changes/s; null under 2 changes */
  rate: number | null;
  /** commit → seen, ms */
  latency: LatencySummary;
}

/** Throughput and commit→seen latency of (commit, seen) pairs (commitMs < 0 = unknown). */
export function streamStats(items: readonly ProbeLine[]): StreamStats {
  const lat = items.filter((i) => i.commitMs >= 0).map((i) => i.seenMs - i.commitMs);
  let first = Infinity;
  let last = -Infinity;
  for (const i of items) {
    first = Math.min(first, i.seenMs);
    last = Math.max(last, i.seenMs);
  }
  const rate = items.length >= 2 && last > first ? items.length / ((last - first) / 1000) : null;
  return { changes: items.length, rate, latency: summarize(lat) };
}
