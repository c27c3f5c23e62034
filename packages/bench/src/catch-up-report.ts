// The BENCHMARKS.md section of the catch-up phase: the reader draining a WAL backlog, its
// CPU per 1,000 changes, the peak RSS of one large transaction, Debezium beside it, the profile.
import path from 'node:path';
import type { MachineInfo } from './machine.js';
import { f0, row } from './markdown.js';
import { failed, type PhaseOutcome, succeeded } from './phase.js';
import { BIG_TRANSACTION_ROWS, type CatchUpResult, type CatchUpRun } from './phases/catch-up.js';
import type { DebeziumResult } from './phases/debezium.js';

export const CATCH_UP_SECTION = 'catch-up';

const f1 = (v: number | null | undefined): string =>
  v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(1);

export function renderCatchUp(
  outcome: PhaseOutcome<CatchUpResult> | undefined,
  debeziumOutcome: PhaseOutcome<DebeziumResult> | undefined,
  command: string,
  machine?: MachineInfo,
): string[] {
  const out = ['## Reader catch-up', ''];
  if (!outcome) return [...out, 'Not measured in this run.', ''];
  if (failed(outcome)) return [...out, `Failed: ${outcome.error}`, ''];
  const { burst, bigTransaction, profile } = outcome;
  const debezium = succeeded(debeziumOutcome);
  out.push(
    `\`${command}\`, on ${machine ? `${machine.nproc} × ${machine.cpu}, Node ${machine.node}, PostgreSQL ${machine.postgres}` : 'the machine above'}, the whole three-region fabric running beside it. A dedicated reader (own slot, publication and topic \`bench.catchup\`, the demo rules, default batching: --max-batch, --linger-ms, acks=all, idempotent) streams and is warm, is frozen (SIGSTOP) while the backlog is written, then released (SIGCONT): time until its /healthz confirmed the backlog's end LSN, its own /proc CPU ticks over that time (start-up left out), and its VmHWM reset just before.`,
    '',
    row(['backlog', 'changes', 'drain ms', 'changes/s', 'CPU ms per 1,000 changes', 'peak RSS MB']),
    row(Array<string>(6).fill('---')),
    row([
      `pgbench burst (16 clients, ${f0(burst.pgbenchTps)} updates/s)`,
      burst.changes,
      f0(burst.drainMs),
      f0(burst.rate),
      f1(burst.cpuMsPer1000),
      f0(burst.peakRssMb),
    ]),
    row([
      `one transaction of ${BIG_TRANSACTION_ROWS} rows`,
      bigTransaction.changes,
      f0(bigTransaction.drainMs),
      f0(bigTransaction.rate),
      f1(bigTransaction.cpuMsPer1000),
      f0(bigTransaction.peakRssMb),
    ]),
    '',
  );
  const C = outcome.compared;
  if (C) {
    const pairRow = (what: string, r: CatchUpRun) =>
      row([what, r.changes, f0(r.drainMs), f0(r.rate), f1(r.cpuMsPer1000), f0(r.peakRssMb)]);
    out.push(
      `Side by side with the comparison build (\`${path.relative(process.cwd(), C.script)}\`): a second reader on a slot, publication and topic of its own, frozen and released together with this one, so both drain the same backlog at the same moments of the shared machine (each slows the other alike: compare the two rows, not these with the ones above).`,
      '',
      row(['backlog, both at once', 'changes', 'drain ms', 'changes/s', 'CPU ms per 1,000 changes', 'peak RSS MB']),
      row(Array<string>(6).fill('---')),
      pairRow(`burst (${f0(C.pgbenchTps)} updates/s), this build`, C.burst.current),
      pairRow('burst, comparison build', C.burst.other),
      pairRow(`${BIG_TRANSACTION_ROWS} rows, this build`, C.bigTransaction.current),
      pairRow(`${BIG_TRANSACTION_ROWS} rows, comparison build`, C.bigTransaction.other),
      '',
    );
  }
  if (!debeziumOutcome) out.push('Debezium: not measured in this run (--skip-debezium).', '');
  else if (!debezium) out.push(`Debezium: failed: ${failed(debeziumOutcome) ? debeziumOutcome.error : 'n/a'}`, '');
  else {
    const ratio = burst.rate && debezium.catchUp.rate ? burst.rate / debezium.catchUp.rate : null;
    out.push(
      `Debezium ${debezium.version} embedded (Baseline 2's probe, decode only, nothing published) on its own pgbench burst of ${debezium.catchUp.changes} changes in the same run: **${f0(debezium.catchUp.rate)} changes/s**; our reader (decode → Kafka acks=all) / Debezium: **${ratio === null ? 'n/a' : ratio.toFixed(2)}×**.`,
      '',
    );
  }
  if ('error' in profile) out.push(`Profile: ${profile.error}`, '');
  else {
    out.push(
      `Profile: the same burst with the reader under \`--cpu-prof\` (\`${path.relative(process.cwd(), profile.file)}\`); top self time:`,
      '',
      row(['self %', 'self ms', 'function (dist file:line)']),
      row(['---', '---', '---']),
      ...profile.top.map((t) => row([t.pct.toFixed(1), t.ms.toFixed(0), `\`${t.fn}\``])),
      '',
    );
    const kafkajs = profile.top.filter((t) => t.fn.includes('node_modules/kafkajs/'));
    const share = kafkajs.reduce((a, t) => a + t.pct, 0);
    out.push(`kafkajs among the top ${profile.top.length}: ${share.toFixed(1)} % of samples.`, '');
  }
  return out;
}
