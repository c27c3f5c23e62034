import { create, type InvalidationEvent, InvalidationEventSchema, Operation } from '@fabric/proto';
import { describe, expect, it } from 'vitest';
import { ApplyRounds } from '../src/apply-rounds.js';
import { type ApplyResult, ApplyTally } from '../src/apply-tally.js';

const ev = (id: string): InvalidationEvent =>
  create(InvalidationEventSchema, { id, operation: Operation.UPDATE, keys: [id] });

/** An applier that records each batch it got, fails the events whose id starts with "bad", counts one key per event. */
function recordingApplier() {
  const batches: string[][] = [];
  const apply = async (events: readonly InvalidationEvent[]): Promise<ApplyResult> => {
    batches.push(events.map((e) => e.id));
    const tally = new ApplyTally(events);
    events.forEach((e, i) => {
      if (e.id.startsWith('bad')) tally.fail(i, 'unlink', new Error(`refused ${e.id}`));
      else tally.add('keysUnlinked');
    });
    return tally.result();
  };
  return { batches, apply };
}

describe('ApplyRounds', () => {
  it('joins the applies of one turn of the event loop into one batch, in the order they were asked', async () => {
    const { batches, apply } = recordingApplier();
    const rounds = new ApplyRounds(apply, 500);
    const results = await Promise.all([
      rounds.apply([ev('p0-a'), ev('p0-b')]),
      rounds.apply([ev('p1-a')]),
      rounds.apply([ev('p2-a'), ev('p2-b')]),
    ]);
    expect(batches).toEqual([['p0-a', 'p0-b', 'p1-a', 'p2-a', 'p2-b']]);
    // What the round did is counted once, with its first caller.
    expect(results.map((r) => r.keysUnlinked)).toEqual([5, 0, 0]);
  });

  it("gives each caller its own events' failures, by its own indices", async () => {
    const { apply } = recordingApplier();
    const rounds = new ApplyRounds(apply, 500);
    const [first, second] = await Promise.all([
      rounds.apply([ev('ok-0'), ev('bad-1')]),
      rounds.apply([ev('bad-x'), ev('ok-y'), ev('bad-z')]),
    ]);
    expect(first!.failed.map((f) => [f.index, f.eventId])).toEqual([[1, 'bad-1']]);
    expect(second!.failed.map((f) => [f.index, f.eventId])).toEqual([
      [0, 'bad-x'],
      [2, 'bad-z'],
    ]);
  });

  it('starts another batch rather than pass maxEvents; a large one goes alone', async () => {
    const { batches, apply } = recordingApplier();
    const rounds = new ApplyRounds(apply, 3);
    await Promise.all([
      rounds.apply([ev('a'), ev('b')]),
      rounds.apply([ev('c'), ev('d')]),
      rounds.apply([ev('e')]),
      rounds.apply([ev('f'), ev('g'), ev('h'), ev('i')]),
    ]);
    expect(batches).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
      ['f', 'g', 'h', 'i'],
    ]);
  });

  it('fails every caller of a batch that failed as a whole, and the next turn starts afresh', async () => {
    let fail = true;
    const { batches, apply } = recordingApplier();
    const rounds = new ApplyRounds(async (events) => {
      if (fail) throw new Error('connection lost');
      return apply(events);
    }, 500);
    const outcomes = await Promise.allSettled([rounds.apply([ev('a')]), rounds.apply([ev('b')])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect((await rounds.apply([ev('c')])).failed).toEqual([]);
    expect(batches).toEqual([['c']]);
  });
});
