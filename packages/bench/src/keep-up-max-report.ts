// The keep-up-at-the-maximum table (phases/keep-up-max.ts), in every section that ran it.
import { cpuTable } from './cpu-cost.js';
import { f0, row } from './markdown.js';
import { failed, type PhaseOutcome } from './phase.js';
import type { KeepUpMaxResult } from './phases/keep-up-max.js';

const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/** A few evenly spaced values of a long series, for a table cell. */
function spread(xs: readonly number[], n = 6): string {
  if (xs.length <= n) return xs.map((x) => f0(x)).join(' ');
  return Array.from({ length: n }, (_, i) => f0(xs[Math.round((i * (xs.length - 1)) / (n - 1))])).join(' ');
}

/** `heading`: '##' where it is a section of its own, '###' inside the section of the run it followed. */
export function renderKeepUpAtMax(
  outcome: PhaseOutcome<KeepUpMaxResult> | undefined,
  where: string,
  heading: '##' | '###' = '###',
): string[] {
  const out = [`${heading} Keeping up with the primary at its maximum (${where})`, ''];
  if (!outcome) return [...out, 'Not measured in this run.', ''];
  if (failed(outcome)) return [...out, `Failed: ${outcome.error}`, ''];
  const P = outcome.pgbench;
  const O = outcome.outage;
  if (O)
    out.push(
      `${O.region}'s Redis was stopped ${O.afterMs / 1000} s into this run and started again ${f0(O.heldMs)} ms later (deploy/chaos/service.sh), pgbench going on at full speed throughout: the ratios below include the outage, and the peak RSS of the table after them is what the reader and the invalidator held through it. Drained: from pgbench's end, with everything held during the outage still to apply.`,
      '',
    );
  const kb = (bytes: number) => f0(bytes / 1024);
  out.push(
    `pgbench at the home primary, ${P.clients} clients, one \`update users\` per transaction, ${P.seconds} s, while the fabric ran: **${f0(P.tps)} updates/s** (${P.txns} changes). ` +
      "Sampled every 250 ms: the primary's WAL position and the one the region's reader had acknowledged by Kafka (reader), events in the region's topic and events its invalidator group had applied and committed (invalidator). " +
      'Each ratio is the later count’s rate over the earlier’s, least squares over the run after its first 2 s: 1.0 while the backlog between them stays level, below 1.0 when it grows. ' +
      "The keep-up ratio is their product, the share of the primary's rate that reaches Redis. " +
      'Drained: pgbench’s end → the reader confirmed its last WAL position and the invalidator had applied all the topic held.',
    '',
    row([
      'region',
      'WAL KB/s',
      'events /s published',
      'events /s applied',
      'reader ratio',
      'invalidator ratio',
      'keep-up ratio',
      'reader backlog KB',
      'invalidator backlog (events)',
      'drained ms',
      'verdict',
    ]),
    row(['---', '---', '---', '---', '---', '---', '---', '---', '---', '---', '---']),
    ...Object.entries(outcome.regions).map(([region, r]) =>
      row([
        region,
        kb(r.walRate),
        f0(r.publishedRate),
        f0(r.appliedRate),
        f2(r.readerRatio),
        f2(r.invalidatorRatio),
        `**${f2(r.ratio)}**`,
        spread(r.readerBacklog.map((b) => b / 1024)),
        spread(r.invalidatorBacklog),
        f0(r.drainMs),
        r.keptUp ? 'kept up' : `fell behind (${r.reason})`,
      ]),
    ),
    '',
    `CPU over the pgbench run, per 1,000 changes at ${f0(P.tps)} changes/s:`,
    '',
    ...cpuTable(outcome.resources, P.tps),
    '',
  );
  return out;
}
