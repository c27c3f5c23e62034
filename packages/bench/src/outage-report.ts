// The report's "Keys left stale after a Redis outage" section. Pure.

import { row } from './markdown.js';
import type { OutageDesignName, OutageDesignRun, OutageResult } from './outage-result.js';
import { fmtMs } from './stats.js';

/** design -> commit→invalidated latency in the outage region, from the latency/baseline runs */
export type DesignLatencies = Partial<Record<OutageDesignName, { p50: number | null; p99: number | null }>>;

const HOW: Record<OutageDesignName, string> = {
  fabric: 'WAL → reader → Kafka → invalidator (retries, DLQ)',
  'sync-del': 'writer DELs after COMMIT, nothing retries',
  pubsub: 'writer PUBLISHes, subscriber DELs; fire-and-forget',
};

function failuresCell(r: OutageDesignRun): string {
  if (r.design === 'fabric') return `${r.failures} retried apply attempts`;
  if (r.design === 'sync-del') return `${r.failures} failed DELs`;
  return `${r.failures} lost PUBLISHes`;
}

function replayCell(r: OutageDesignRun): string {
  if (!r.replay) return '—';
  if (r.replay.error) return `replay failed: ${r.replay.error}`;
  return `${r.replay.after.stale} (replayed ${r.replay.replayed}, skipped ${r.replay.skipped}, not replayable ${r.replay.notReplayable})`;
}

/** The markdown table: one row per design. */
export function outageTable(o: OutageResult, latency: DesignLatencies = {}): string[] {
  const lines = [
    row([
      'design',
      'path to the cache',
      `p50 / p99 ms (${o.region}, latency runs)`,
      'writes while down (keys)',
      'failed invalidations',
      'to DLQ',
      `stale after ${o.settleMs / 1000} s`,
      'stale after `fabric dlq replay`',
    ]),
    row(Array<string>(8).fill('---')),
  ];
  for (const r of o.runs) {
    const l = latency[r.design];
    lines.push(
      row([
        r.design,
        HOW[r.design],
        l ? `${fmtMs(l.p50)} / ${fmtMs(l.p99)}` : 'n/a',
        `${r.writesWhileDown} (${r.keysWrittenWhileDown})`,
        failuresCell(r),
        r.deadLettered === null ? '—' : String(r.deadLettered),
        `**${r.stale.stale}** of ${r.stale.checked} (${r.stale.missing} not cached)`,
        replayCell(r),
      ]),
    );
  }
  return lines;
}

/** The whole section body (without the heading). */
export function renderOutage(o: OutageResult, latency: DesignLatencies = {}): string[] {
  const out: string[] = [];
  out.push(
    `For each design in turn: ${o.keys} keys \`user:1..${o.keys}\` filled with the current rows in every region's Redis; the writer updates those rows at ${o.rate}/s (each row at most once, so a later write cannot hide a lost invalidation) from 1 s before ${o.region}'s Redis is stopped (\`deploy/chaos/service.sh stop ${o.region} redis\`) until it is back (${(o.outageMs / 1000).toFixed(0)} s down). ` +
      "The sandbox's Redis keeps nothing on disk, so the bench makes it behave like a persistent cache: just before the stop it sets a save point, Redis writes its RDB on SIGTERM and the restarted server loads the pre-outage values before it accepts a connection (the file is removed afterwards). " +
      `Then ${o.settleMs / 1000} s to settle, and every key is compared with ${o.region}'s own database (stale = cached and different). ` +
      "For the fabric, an event still failing after the invalidator's retries (8 attempts, capped backoff ≤ 5 s) is in the dead-letter queue with its reason: its keys stay stale until `fabric dlq replay`, which the bench then runs with the real CLI before counting again (a dead letter can also be an event whose UNLINK reached Redis just before it stopped while the reply was lost: its key is not stale, and replaying it is harmless). " +
      `The fabric's ${o.region} invalidator is held (service.sh stop) during the sync-del and pubsub runs, so only the design under test invalidates; the other regions' Redis stay up.`,
    '',
  );
  out.push(...outageTable(o, latency), '');
  const notes: string[] = [];
  for (const r of o.runs) {
    if (r.stale.sample.length)
      notes.push(`${r.design}: stale e.g. ${r.stale.sample.map((id) => `user:${id}`).join(', ')}`);
    if (r.restored === 'written')
      notes.push(`${r.design}: the RDB was not loaded; the bench wrote the pre-outage values back after the restart`);
    if (r.kafkaLagAtCount)
      notes.push(`${r.design}: the invalidator still had ${r.kafkaLagAtCount} events of Kafka lag when counted`);
    if (r.replay && r.replay.drainMs === null && !r.replay.error)
      notes.push(`${r.design}: the replayed events were not drained within 30 s`);
  }
  out.push(
    `Redis down: ${o.runs.map((r) => `${r.design} ${(r.downMs / 1000).toFixed(1)} s`).join(', ')}.${notes.length ? ' ' + notes.join('; ') + '.' : ''}`,
    '',
  );
  return out;
}
