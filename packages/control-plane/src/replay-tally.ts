import type { MessageInitShape } from '@bufbuild/protobuf';
import { type ReplayDeadLettersResponseSchema, type ReplayedDeadLetterSchema, ReplayOutcome } from '@fabric/proto';
import type { DeadLetterView } from './dead-letter-view.js';
import { OutcomeTally } from './outcome-tally.js';
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

type ReplayBucket = 'replayed' | 'skipped' | 'notReplayable';

/** Counts of one replay, and the items handled since the last progress message. */
export class ReplayTally {
  private readonly tally = new OutcomeTally<ReplayBucket, MessageInitShape<typeof ReplayedDeadLetterSchema>>();

  constructor(
    private readonly total: bigint,
    private readonly dryRun: boolean,
  ) {}

  scannedOne(): void {
    this.tally.scannedOne();
  }

  note(view: DeadLetterView, outcome: ReplayOutcome, reason: string): void {
    const bucket: ReplayBucket =
      outcome === ReplayOutcome.REPLAYED || outcome === ReplayOutcome.WOULD_REPLAY
        ? 'replayed'
        : outcome === ReplayOutcome.ALREADY_REPLAYED || outcome === ReplayOutcome.RESOLVED
          ? 'skipped'
          : 'notReplayable';
    this.tally.note(bucket, {
      partition: view.partition,
      offset: view.offset,
      outcome,
      reason,
      eventId: view.event?.id ?? '',
    });
  }

  /** A progress message; hands over the items noted since the previous one. */
  progress(done: boolean): MessageInitShape<typeof ReplayDeadLettersResponseSchema> {
    const t = this.tally;
    return {
      dryRun: this.dryRun,
      total: this.total,
      scanned: t.scanned,
      matched: t.matched,
      replayed: t.count('replayed'),
      skipped: t.count('skipped'),
      notReplayable: t.count('notReplayable'),
      items: t.takeItems(),
      done,
    };
  }
}
