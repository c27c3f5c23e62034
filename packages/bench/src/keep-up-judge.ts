// Whether a region kept up with the primary while pgbench ran at its maximum. Pure.
//
// Two links, each judged in its own unit. The reader's: the primary's WAL position against
// the position the region's reader has had acknowledged by Kafka (bytes; on a physical
// standby the same WAL). The invalidator's: events in the region's topic against events its
// group has applied and committed. Keeping up means the later count of each pair grows as
// fast as the earlier: the ratio of their slopes (least squares over the samples, the first
// ones left out while the pipeline fills). The region's keep-up ratio is their product, the
// share of the primary's rate that reaches Redis: 1.0 while both backlogs stay level, below
// when one grows. Slopes rather than totals: a pipeline that keeps up still ends the run a
// few hundred ms behind, which says nothing of whether it keeps up. Events are not counted
// against transactions: a change that alters nothing a rule renders is skipped by design.
import { backlogGrowth } from './stepping.js';

export interface KeepUpSample {
  /** ms since the run began */
  atMs: number;
  /** bytes of WAL the primary wrote since the run began */
  wal: number;
  /** of those, bytes the region's reader had acknowledged by Kafka */
  confirmed: number;
  /** events the region's topic gained */
  published: number;
  /** events the region's invalidator group applied and committed */
  applied: number;
}

export interface KeepUpJudgement {
  /** primary WAL bytes/s over the judged samples */
  walRate: number;
  /** events/s into the region's topic */
  publishedRate: number;
  /** events/s applied */
  appliedRate: number;
  /** reader's acknowledged WAL rate / the primary's */
  readerRatio: number;
  /** applied / published rate */
  invalidatorRatio: number;
  /** readerRatio × invalidatorRatio: the region's keep-up ratio */
  ratio: number;
  /** per sample: WAL bytes not yet acknowledged by Kafka */
  readerBacklog: number[];
  /** per sample: events published, not yet applied */
  invalidatorBacklog: number[];
  keptUp: boolean;
  reason: string;
}

/** Least-squares slope of y over x (per ms), 0 with fewer than two points. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** `skipMs`: samples before this are the pipeline filling, left out of the slopes. */
export function judgeKeepUp(samples: readonly KeepUpSample[], skipMs = 2_000): KeepUpJudgement {
  const judged = samples.filter((s) => s.atMs >= skipMs);
  const xs = judged.map((s) => s.atMs);
  const perSecond = (ys: number[]) => slope(xs, ys) * 1000;
  const walRate = perSecond(judged.map((s) => s.wal));
  const confirmedRate = perSecond(judged.map((s) => s.confirmed));
  const publishedRate = perSecond(judged.map((s) => s.published));
  const appliedRate = perSecond(judged.map((s) => s.applied));
  const share = (part: number, whole: number) => (whole > 0 ? part / whole : 0);
  const readerRatio = share(confirmedRate, walRate);
  const invalidatorRatio = share(appliedRate, publishedRate);
  const readerBacklog = samples.map((s) => s.wal - s.confirmed);
  const invalidatorBacklog = samples.map((s) => s.published - s.applied);
  const base = {
    walRate,
    publishedRate,
    appliedRate,
    readerRatio,
    invalidatorRatio,
    ratio: readerRatio * invalidatorRatio,
    readerBacklog,
    invalidatorBacklog,
  };
  if (judged.length < 3) return { ...base, keptUp: false, reason: 'too few samples' };
  if (walRate <= 0 || publishedRate <= 0) return { ...base, keptUp: false, reason: 'nothing committed' };
  const reader = backlogGrowth(readerBacklog, walRate);
  if (reader) return { ...base, keptUp: false, reason: `reader: ${reader} WAL bytes` };
  const invalidator = backlogGrowth(invalidatorBacklog, publishedRate);
  if (invalidator) return { ...base, keptUp: false, reason: `invalidator: ${invalidator} events` };
  return { ...base, keptUp: true, reason: 'bounded' };
}
