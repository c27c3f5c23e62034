// Baseline 2, Debezium embedded (packages/bench/debezium/pom.xml): the Java runner is not written yet.
import type { BenchContext } from '../context.js';
import type { NotImplemented, PhaseOutcome } from '../phase.js';
import type { SourceLimitResult } from './source.js';

export async function debeziumBaseline(_ctx: BenchContext, _source: PhaseOutcome<SourceLimitResult> | undefined): Promise<NotImplemented> {
  return { notImplemented: true };
}
