import type { InvalidationEvent } from '@fabric/proto';
import { type ApplyResult, ApplyTally } from './apply-tally.js';

type Apply = (events: readonly InvalidationEvent[]) => Promise<ApplyResult>;

interface Waiting {
  events: readonly InvalidationEvent[];
  resolve: (result: ApplyResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Applies asked for in one turn of the event loop share one batch, up to `maxEvents`:
 * kafkajs hands every partition of a fetch to its own eachBatch at once, and at a steady
 * 1,000 changes/s each holds a few events, so a batch per partition cost a Redis round
 * trip (and a socket write, the largest item of the invalidator's profile) per partition
 * per fetch. Joined, a fetch costs one. A backlog's chunks are already maxEvents each and
 * go alone, as before.
 *
 * Joining partitions changes no guarantee: a partition's events stay in its order, deletes
 * and version bumps of different partitions commute, and each caller gets back the
 * failures of its own events only, by its own indices. What the round did (keys unlinked,
 * pages...) is counted once, in its first caller's result, so totals stay exact.
 */
export class ApplyRounds {
  private open: Waiting[] = [];
  private openEvents = 0;

  constructor(
    private readonly applyBatch: Apply,
    private readonly maxEvents: number,
  ) {}

  apply(events: readonly InvalidationEvent[]): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      if (this.open.length > 0 && this.openEvents + events.length > this.maxEvents) this.close();
      this.open.push({ events, resolve, reject });
      this.openEvents += events.length;
      // After every eachBatch of this fetch reached its apply: they run in one burst of microtasks.
      if (this.open.length === 1) {
        const round = this.open;
        setImmediate(() => {
          if (this.open === round) this.close();
        });
      }
    });
  }

  private close(): void {
    const round = this.open;
    this.open = [];
    this.openEvents = 0;
    void this.run(round);
  }

  private async run(round: Waiting[]): Promise<void> {
    if (round.length === 1) {
      const [only] = round as [Waiting];
      await this.applyBatch(only.events).then(only.resolve, only.reject);
      return;
    }
    let result: ApplyResult;
    try {
      result = await this.applyBatch(round.flatMap((w) => w.events));
    } catch (err) {
      for (const w of round) w.reject(err);
      return;
    }
    let from = 0;
    round.forEach((w, i) => {
      const to = from + w.events.length;
      const failed = result.failed
        .filter((f) => f.index >= from && f.index < to)
        .map((f) => ({ ...f, index: f.index - from }));
      w.resolve(i === 0 ? { ...result, failed } : { ...new ApplyTally(w.events).result(), failed });
      from = to;
    });
  }
}
