// The report's "Baseline 2: Debezium" section. Pure.

import { f0, row } from './markdown.js';
import type { DebeziumResult } from './phases/debezium.js';
import { fmtMs } from './stats.js';

export function renderDebezium(D: DebeziumResult): string[] {
  const L = D.live;
  const C = D.catchUp;
  const out: string[] = [];
  out.push(
    `Debezium ${D.version} embedded engine with the PostgreSQL connector (packages/bench/debezium/src/DebeziumProbe.java, compiled at bench time; pgoutput, its own slot and publication \`bench_debezium\`, table public.users, snapshot.mode=never, file offsets, \`poll.interval.ms=${D.pollIntervalMs}\` — Debezium's default is 500, ours lingers 5 ms), run against the home primary next to our home reader. ` +
      "Debezium's latency: commit (`source.ts_ms`) → the change handed to the engine's consumer in the probe (decoded, nothing published). Ours: commit → the Kafka record timestamp of the published event on the home topic (and → the reader's decode time, `emitted_time`). Both clocks are this machine's; `ts_ms` has ms resolution. The slot is dropped at the end.",
    '',
  );
  out.push(
    `Live (after a 2 s, 200/s warm-up the probe had to hand over first): the writer at ${L.rate}/s for ${L.durationMs / 1000} s (achieved ${f0(L.achievedRate)}/s, ${L.committed} changes).`,
    '',
  );
  out.push(
    row(['pipeline', 'changes', 'changes/s (first → last seen)', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms']),
    row(Array<string>(7).fill('---')),
  );
  const d = L.debezium;
  out.push(
    row([
      'Debezium: commit → consumer',
      d.changes,
      f0(d.rate),
      fmtMs(d.latency.p50),
      fmtMs(d.latency.p99),
      fmtMs(d.latency.p999),
      fmtMs(d.latency.max),
    ]),
  );
  const r = L.reader;
  out.push(
    row([
      'our reader: commit → decoded',
      r.changes,
      f0(r.rate),
      fmtMs(r.decode.p50),
      fmtMs(r.decode.p99),
      fmtMs(r.decode.p999),
      fmtMs(r.decode.max),
    ]),
  );
  out.push(
    row([
      'our reader: commit → published to Kafka',
      r.changes,
      f0(r.rate),
      fmtMs(r.publish.p50),
      fmtMs(r.publish.p99),
      fmtMs(r.publish.p999),
      fmtMs(r.publish.max),
    ]),
    '',
  );
  out.push(
    `Catch-up: probe stopped, pgbench wrote ${C.changes} changes (${f0(C.pgbenchTps)}/s), probe started: ${f0(C.startupMs)} ms until its streaming task ran (JVM + connector), then ${C.drainMs === null ? 'not drained within 300 s' : `${f0(C.drainMs)} ms to hand over every change`}.`,
    '',
  );
  out.push(row(['catch-up', 'changes/s']), row(['---', '---']));
  out.push(row(['Debezium (decode only)', f0(C.rate)]));
  out.push(row(['our home reader (decode → Kafka acks=all; Baseline 1)', f0(C.readerRate)]));
  if (C.rate && C.readerRate) out.push(row(['ours / Debezium', (C.readerRate / C.rate).toFixed(2)]));
  out.push('');
  return out;
}
