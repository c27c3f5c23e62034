import type { MessageInitShape } from '@bufbuild/protobuf';
import { type ResolveDeadLettersResponseSchema, type ResolvedDeadLetterSchema, ResolveOutcome } from '@fabric/proto';
import type { DeadLetterView } from './dead-letter-view.js';
import { OutcomeTally } from './outcome-tally.js';
import type { Settlement } from './replay-ledger.js';

export type ResolveDecision = { action: 'resolve' } | { action: 'report'; outcome: ResolveOutcome; reason: string };

/**
 * What a resolution does with one matching dead letter. Only pending ones are resolved:
 * a replayed or already resolved dead letter keeps its record, so running the same
 * resolution twice records nothing the second time. Replayable dead letters may be
 * resolved too: an operator may know their keys are long gone.
 */
export function decideResolve(settled: Settlement | undefined, opts: { dryRun: boolean }): ResolveDecision {
  if (settled)
    return {
      action: 'report',
      outcome: ResolveOutcome.ALREADY_SETTLED,
      reason: `${settled.state}${settled.by ? ` by ${settled.by}` : ''}${settled.at ? ` at ${settled.at.toISOString()}` : ''}`,
    };
  if (opts.dryRun) return { action: 'report', outcome: ResolveOutcome.WOULD_RESOLVE, reason: '' };
  return { action: 'resolve' };
}

type ResolveBucket = 'resolved' | 'skipped';

/** Counts of one resolution, and the items handled since the last progress message. */
export class ResolveTally {
  private readonly tally = new OutcomeTally<ResolveBucket, MessageInitShape<typeof ResolvedDeadLetterSchema>>();

  constructor(
    private readonly total: bigint,
    private readonly dryRun: boolean,
  ) {}

  scannedOne(): void {
    this.tally.scannedOne();
  }

  note(view: Pick<DeadLetterView, 'partition' | 'offset'>, outcome: ResolveOutcome, reason: string): void {
    const resolved = outcome === ResolveOutcome.RESOLVED || outcome === ResolveOutcome.WOULD_RESOLVE;
    this.tally.note(resolved ? 'resolved' : 'skipped', {
      partition: view.partition,
      offset: view.offset,
      outcome,
      reason,
    });
  }

  /** A progress message; hands over the items noted since the previous one. */
  progress(done: boolean): MessageInitShape<typeof ResolveDeadLettersResponseSchema> {
    const t = this.tally;
    return {
      dryRun: this.dryRun,
      total: this.total,
      scanned: t.scanned,
      matched: t.matched,
      resolved: t.count('resolved'),
      skipped: t.count('skipped'),
      items: t.takeItems(),
      done,
    };
  }
}
