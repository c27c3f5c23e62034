import type { MessageInitShape } from '@bufbuild/protobuf';
import { type ReplayDeadLettersResponseSchema, type ReplayedDeadLetterSchema, ReplayOutcome } from '@fabric/proto';
import type { DeadLetterView } from './dead-letter-view.js';
import type { Settlement } from './replay-ledger.js';

export type ReplayDecision = { action: 'publish' } | { action: 'report'; outcome: ReplayOutcome; reason: string };

/**
 * What a replay does with one matching dead letter. A dead letter the ledger already
 * holds (replayed, or resolved by an operator) is skipped unless forced, so running the
 * same replay twice publishes nothing the second time; a dry run decides the same way
 * but publishes nothing.
 */
export function decideReplay(
  view: DeadLetterView,
  opts: { settled: Settlement | undefined; force: boolean; dryRun: boolean },
): ReplayDecision {
  if (opts.settled?.state === 'replayed' && !opts.force)
    return {
      action: 'report',
      outcome: ReplayOutcome.ALREADY_REPLAYED,
      reason: 'replayed before; force publishes it again',
    };
  if (opts.settled?.state === 'resolved' && !opts.force)
    return {
      action: 'report',
      outcome: ReplayOutcome.RESOLVED,
      reason: `resolved by ${opts.settled.by || 'unknown'}: ${opts.settled.note}; force publishes it anyway`,
    };
  if (!view.replayable)
    return { action: 'report', outcome: ReplayOutcome.NOT_REPLAYABLE, reason: view.notReplayableReason };
  if (opts.dryRun) return { action: 'report', outcome: ReplayOutcome.WOULD_REPLAY, reason: '' };
  return { action: 'publish' };
}

/** Counts of one replay, and the items handled since the last progress message. */
export class ReplayTally {
  private scanned = 0n;
  private matched = 0n;
  private replayed = 0n;
  private skipped = 0n;
  private notReplayable = 0n;
  private items: Array<MessageInitShape<typeof ReplayedDeadLetterSchema>> = [];

  constructor(
    private readonly total: bigint,
    private readonly dryRun: boolean,
  ) {}

  scannedOne(): void {
    this.scanned++;
  }

  note(view: DeadLetterView, outcome: ReplayOutcome, reason: string): void {
    this.matched++;
    if (outcome === ReplayOutcome.REPLAYED || outcome === ReplayOutcome.WOULD_REPLAY) this.replayed++;
    else if (outcome === ReplayOutcome.ALREADY_REPLAYED || outcome === ReplayOutcome.RESOLVED) this.skipped++;
    else this.notReplayable++;
    this.items.push({ partition: view.partition, offset: view.offset, outcome, reason, eventId: view.event?.id ?? '' });
  }

  /** A progress message; hands over the items noted since the previous one. */
  progress(done: boolean): MessageInitShape<typeof ReplayDeadLettersResponseSchema> {
    const items = this.items;
    this.items = [];
    return {
      dryRun: this.dryRun,
      total: this.total,
      scanned: this.scanned,
      matched: this.matched,
      replayed: this.replayed,
      skipped: this.skipped,
      notReplayable: this.notReplayable,
      items,
      done,
    };
  }
}
