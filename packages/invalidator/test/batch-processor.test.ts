import {
  create,
  type InvalidationEvent,
  InvalidationEventSchema,
  Operation,
  timestampFromMs,
  toBinary,
} from '@fabric/proto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BatchProcessor, type DeadLetterDraft, type SourceRecord } from '../src/batch-processor.js';
import { ApplyError } from '../src/errors.js';
import type { ApplyResult } from '../src/redis-applier.js';

const logger = pino({ level: 'silent' });
const policy = { maxAttempts: 4, baseMs: 100, capMs: 1000 };

function record(offset: number, fields: Partial<InvalidationEvent> | Buffer | null): SourceRecord {
  const value =
    fields === null || Buffer.isBuffer(fields)
      ? fields
      : Buffer.from(
          toBinary(
            InvalidationEventSchema,
            create(InvalidationEventSchema, {
              id: `e${offset}`,
              operation: Operation.UPDATE,
              keys: [`k${offset}`],
              ...fields,
            }),
          ),
        );
  return { topic: 't', partition: 0, offset: String(offset), key: null, value };
}

function replyError(message: string): Error {
  const err = new Error(message);
  err.name = 'ReplyError';
  return err;
}

const ok = (failed: ApplyResult['failed'] = []): ApplyResult => ({
  keysUnlinked: 0,
  leasesRevoked: 0,
  versionsBumped: 0,
  tagsExpanded: 0,
  patternsScanned: 0,
  heartbeats: 0,
  failed,
});
const failure = (index: number, events: InvalidationEvent[], cause: unknown) => ({
  index,
  eventId: events[index]!.id,
  error: new ApplyError('unlink', events[index]!.id, cause),
});

/** A processor around a scripted applier: `script(attempt, events)` answers each apply call. */
function harness(
  script: (call: number, events: InvalidationEvent[]) => ApplyResult | Promise<ApplyResult>,
  opts: { running?: () => boolean; publish?: (d: DeadLetterDraft[]) => Promise<void>; policy?: typeof policy } = {},
) {
  const calls: string[][] = [];
  const sleeps: number[] = [];
  const letters: DeadLetterDraft[] = [];
  const applied: string[] = [];
  let heartbeats = 0;
  const processor = new BatchProcessor({
    apply: async (events) => {
      calls.push(events.map((e) => e.id));
      return script(calls.length, events);
    },
    publishDeadLetters: opts.publish ?? (async (d) => void letters.push(...d)),
    policy: opts.policy ?? policy,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.999,
    logger,
    observer: {
      applyResult() {},
      applied: (e) => void applied.push(e.id),
      retrying() {},
      deadLettered() {},
      heartbeatDropped() {},
    },
  });
  const control = { heartbeat: async () => void heartbeats++, isRunning: opts.running ?? (() => true) };
  return { processor, control, calls, sleeps, letters, applied, heartbeats: () => heartbeats };
}

describe('BatchProcessor', () => {
  it('applies a clean chunk in one call', async () => {
    const h = harness(() => ok());
    const outcome = await h.processor.process([record(1, {}), record(2, {})], h.control);
    expect(outcome).toEqual({ status: 'done', applied: 2, deadLettered: 0 });
    expect(h.calls).toEqual([['e1', 'e2']]);
    expect(h.sleeps).toEqual([]);
  });

  it('retries only the events that failed transiently, with growing capped delays', async () => {
    const h = harness((call, events) =>
      call < 3
        ? ok(
            events
              .map((_, i) => i)
              .filter((i) => events[i]!.id === 'e2')
              .map((i) => failure(i, events, new Error('Connection is closed.'))),
          )
        : ok(),
    );
    const outcome = await h.processor.process([record(1, {}), record(2, {}), record(3, {})], h.control);
    expect(outcome).toEqual({ status: 'done', applied: 3, deadLettered: 0 });
    expect(h.calls).toEqual([['e1', 'e2', 'e3'], ['e2'], ['e2']]);
    // Full jitter with random()≈1: just under base·2^(n-1), sliced into ≤1 s sleeps.
    expect(h.sleeps).toEqual([99, 199]);
    expect(h.letters).toEqual([]);
  });

  it('dead-letters an event still failing after maxAttempts, with the attempt count and original bytes', async () => {
    const h = harness((_, events) => ok(events.map((_, i) => failure(i, events, new Error('connect ECONNREFUSED')))));
    const records = [record(7, { table: 'public.users', sourceLsn: '0/10' })];
    const outcome = await h.processor.process(records, h.control);
    expect(outcome).toEqual({ status: 'done', applied: 0, deadLettered: 1 });
    expect(h.calls).toHaveLength(policy.maxAttempts);
    expect(h.letters).toHaveLength(1);
    expect(h.letters[0]).toMatchObject({ cause: 'exhausted', attempts: 4, record: records[0] });
    expect(h.letters[0]!.reason).toMatch(/still failing after 4 attempts: .*ECONNREFUSED/);
    expect(h.letters[0]!.event?.table).toBe('public.users');
  });

  it('does not retry a deterministic Redis reply (e.g. INCR on a non-integer)', async () => {
    const h = harness((_, events) =>
      ok([failure(0, events, replyError('ERR value is not an integer or out of range'))]),
    );
    const outcome = await h.processor.process([record(1, {}), record(2, {})], h.control);
    expect(outcome).toEqual({ status: 'done', applied: 1, deadLettered: 1 });
    expect(h.calls).toHaveLength(1);
    expect(h.letters[0]).toMatchObject({ cause: 'permanent', attempts: 1 });
  });

  it('retries transient replies such as LOADING', async () => {
    const h = harness((call, events) =>
      call === 1 ? ok([failure(0, events, replyError('LOADING Redis is loading the dataset in memory'))]) : ok(),
    );
    expect(await h.processor.process([record(1, {})], h.control)).toEqual({
      status: 'done',
      applied: 1,
      deadLettered: 0,
    });
  });

  it('sends undecodable, empty and invalid records to the DLQ without calling Redis for them', async () => {
    const h = harness(() => ok());
    const outcome = await h.processor.process(
      [
        record(1, Buffer.from([0xff, 0xff, 0xff])),
        record(2, null),
        record(3, { operation: Operation.UNSPECIFIED }),
        record(4, {}),
        record(5, { keys: ['a', ''] }),
      ],
      h.control,
    );
    expect(outcome).toEqual({ status: 'done', applied: 1, deadLettered: 4 });
    expect(h.calls).toEqual([['e4']]);
    expect(h.letters.map((l) => [l.record.offset, l.cause, l.attempts])).toEqual([
      ['1', 'undecodable', 0],
      ['2', 'undecodable', 0],
      ['3', 'invalid', 0],
      ['5', 'invalid', 0],
    ]);
    expect(h.letters[3]!.reason).toContain('keys[1] is empty');
  });

  it('treats a throwing apply as a failure of every event', async () => {
    const h = harness((call) => (call === 1 ? Promise.reject(new Error("Stream isn't writeable")) : ok()));
    expect(await h.processor.process([record(1, {}), record(2, {})], h.control)).toEqual({
      status: 'done',
      applied: 2,
      deadLettered: 0,
    });
    expect(h.calls).toEqual([
      ['e1', 'e2'],
      ['e1', 'e2'],
    ]);
  });

  it('keeps the group heartbeat going while it waits', async () => {
    const slow = { maxAttempts: 2, baseMs: 3500, capMs: 3500 };
    const h = harness((call, events) => (call === 1 ? ok([failure(0, events, new Error('timeout'))]) : ok()), {
      policy: slow,
    });
    await h.processor.process([record(1, {})], h.control);
    expect(h.sleeps).toEqual([1000, 1000, 1000, 496]);
    expect(h.heartbeats()).toBe(4);
  });

  it('stops retrying when the consumer stops, dead-lettering nothing', async () => {
    let running = true;
    const h = harness(
      (_, events) => {
        running = false;
        return ok([failure(0, events, new Error('Connection is closed.'))]);
      },
      { running: () => running },
    );
    expect(await h.processor.process([record(1, Buffer.from([0xff])), record(2, {})], h.control)).toEqual({
      status: 'interrupted',
    });
    expect(h.letters).toEqual([]);
  });

  it('drops a heartbeat it cannot apply instead of dead-lettering it', async () => {
    const h = harness((_, events) => ok(events.map((_, i) => failure(i, events, new Error('down')))));
    const hb = record(1, { operation: Operation.HEARTBEAT, keys: [], primaryCommitTime: timestampFromMs(1) });
    expect(await h.processor.process([hb], h.control)).toEqual({ status: 'done', applied: 0, deadLettered: 0 });
    expect(h.calls).toHaveLength(policy.maxAttempts);
  });

  it('lets a failing DLQ publish escape, so the chunk is not committed', async () => {
    const h = harness(() => ok(), { publish: () => Promise.reject(new Error('broker down')) });
    await expect(h.processor.process([record(1, null)], h.control)).rejects.toThrow('broker down');
  });
});
