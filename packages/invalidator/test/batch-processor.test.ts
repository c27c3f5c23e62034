import {
  create,
  type InvalidationEvent,
  InvalidationEventSchema,
  Operation,
  ResyncSchema,
  timestampFromMs,
  toBinary,
} from '@fabric/proto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BatchProcessor, type DeadLetterDraft, type SourceRecord } from '../src/batch-processor.js';
import { ApplyError } from '../src/errors.js';
import type { ApplyResult } from '../src/redis-applier.js';
import type { ResyncJob, ResyncOutcome } from '../src/resync-runner.js';

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
  pagesScanned: 0,
  heartbeats: 0,
  failed,
});
const failure = (index: number, events: InvalidationEvent[], cause: unknown) => ({
  index,
  eventId: events[index]!.id,
  error: new ApplyError('unlink', events[index]!.id, cause),
});

/**
 * A processor around a scripted applier: `script(attempt, events)` answers each apply call,
 * `opts.resync(call, job)` each resync (done, no keys, unless told otherwise). `order` has
 * both kinds of call as they happened.
 */
function harness(
  script: (call: number, events: InvalidationEvent[]) => ApplyResult | Promise<ApplyResult>,
  opts: {
    running?: () => boolean;
    publish?: (d: DeadLetterDraft[]) => Promise<void>;
    policy?: typeof policy;
    resync?: (call: number, job: ResyncJob) => ResyncOutcome | Promise<ResyncOutcome>;
  } = {},
) {
  const calls: string[][] = [];
  const resyncs: ResyncJob[] = [];
  const order: string[] = [];
  const sleeps: number[] = [];
  const letters: DeadLetterDraft[] = [];
  const applied: string[] = [];
  const retries: Array<{ events: number; attempt: number; delayMs: number }> = [];
  const states: string[] = [];
  let heartbeats = 0;
  const processor = new BatchProcessor({
    apply: async (events) => {
      calls.push(events.map((e) => e.id));
      order.push(`apply ${events.map((e) => e.id).join(',')}`);
      return script(calls.length, events);
    },
    resync: async (job) => {
      resyncs.push(job);
      order.push(`resync ${job.id}`);
      return opts.resync ? opts.resync(resyncs.length, job) : { status: 'done', keysDropped: 0 };
    },
    publishDeadLetters: opts.publish ?? (async (d) => void letters.push(...d)),
    policy: opts.policy ?? policy,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.999,
    logger,
    observer: {
      applyResult() {},
      applied: (e) => void applied.push(e.id),
      retrying: (events, attempt, delayMs) => void retries.push({ events, attempt, delayMs }),
      deadLettered() {},
      heartbeatDropped() {},
      blocked: (partition, reason) => void states.push(`blocked ${partition} ${reason}`),
      unblocked: (partition) => void states.push(`unblocked ${partition}`),
    },
  });
  const control = { heartbeat: async () => void heartbeats++, isRunning: opts.running ?? (() => true) };
  return {
    processor,
    control,
    calls,
    resyncs,
    order,
    sleeps,
    letters,
    applied,
    retries,
    states,
    heartbeats: () => heartbeats,
  };
}

const resync = (offset: number, fields: Partial<InvalidationEvent> = {}) =>
  record(offset, {
    operation: Operation.RESYNC,
    keys: [],
    patterns: ['user:*'],
    resync: create(ResyncSchema, {
      id: `eu-west:resync:${offset}`,
      reason: 'slot-recreated',
      detail: 'slot fabric_eu_west recreated',
    }),
    ...fields,
  });

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

  it('dead-letters an event whose slot is still moving after maxAttempts, with the attempt count and original bytes', async () => {
    const h = harness((_, events) =>
      ok(
        events.map((_, i) => failure(i, events, replyError('TRYAGAIN Multiple keys request during rehashing of slot'))),
      ),
    );
    const records = [record(7, { table: 'public.users', sourceLsn: '0/10' })];
    const outcome = await h.processor.process(records, h.control);
    expect(outcome).toEqual({ status: 'done', applied: 0, deadLettered: 1 });
    expect(h.calls).toHaveLength(policy.maxAttempts);
    expect(h.letters).toHaveLength(1);
    expect(h.letters[0]).toMatchObject({ cause: 'exhausted', attempts: 4, record: records[0] });
    expect(h.letters[0]!.reason).toMatch(/still failing after 4 attempts: .*TRYAGAIN/);
    expect(h.states).toEqual([]);
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
        record(5, { keys: [''] }),
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
    expect(h.letters[3]!.reason).toContain('keys[0] is empty');
  });

  it('applies the valid entries of an event and dead-letters only the invalid ones, naming each', async () => {
    const h = harness(() => ok());
    const outcome = await h.processor.process(
      [record(1, { keys: ['a', '', 'b'], tags: ['', 't'] }), record(2, {})],
      h.control,
    );
    expect(outcome).toEqual({ status: 'done', applied: 2, deadLettered: 1 });
    expect(h.calls).toEqual([['e1', 'e2']]);
    expect(h.letters.map((l) => [l.record.offset, l.cause, l.event?.keys, l.event?.tags])).toEqual([
      ['1', 'invalid', ['a', 'b'], ['t']],
    ]);
    expect(h.letters[0]!.reason).toBe(
      'invalid entries of event e1, dead-lettered apart from the rest: keys[1] is empty, tags[0] is empty',
    );
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
    const h = harness((_, events) => ok(events.map((_, i) => failure(i, events, replyError('TRYAGAIN slot moving')))));
    const hb = record(1, { operation: Operation.HEARTBEAT, keys: [], primaryCommitTime: timestampFromMs(1) });
    expect(await h.processor.process([hb], h.control)).toEqual({ status: 'done', applied: 0, deadLettered: 0 });
    expect(h.calls).toHaveLength(policy.maxAttempts);
  });

  describe('an outage (the link or the server, not the event)', () => {
    const outages = [
      new Error('connect ECONNREFUSED 127.0.0.1:6379'),
      new Error('Connection is closed.'),
      Object.assign(new Error('Reached the max retries per request limit (which is 0).'), {
        name: 'MaxRetriesPerRequestError',
      }),
      new Error('Command timed out'),
      replyError('NOAUTH Authentication required.'),
      replyError("NOPERM User fabric has no permissions to run the 'unlink' command"),
      replyError('MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk'),
      replyError("READONLY You can't write against a read only replica."),
      replyError('LOADING Redis is loading the dataset in memory'),
      replyError('CLUSTERDOWN The cluster is down'),
      replyError("OOM command not allowed when used memory > 'maxmemory'."),
    ];

    it.each(outages.map((e) => [e.message, e]))('blocks the partition past maxAttempts: %s', async (_, cause) => {
      // Ten rounds down (more than maxAttempts, 4), then Redis answers.
      const h = harness((call, events) => (call <= 10 ? ok(events.map((_, i) => failure(i, events, cause))) : ok()));
      const outcome = await h.processor.process([record(1, {}), record(2, {})], h.control);
      expect(outcome).toEqual({ status: 'done', applied: 2, deadLettered: 0 });
      expect(h.calls).toHaveLength(11);
      expect(h.letters).toEqual([]);
      expect(h.applied).toEqual(['e1', 'e2']);
      // One transition each way, however many rounds it took.
      expect(h.states).toEqual([expect.stringMatching(/^blocked 0 [A-Za-z]+$/), 'unblocked 0']);
      expect(h.processor.blockedPartitions()).toEqual([]);
      // Backoff keeps growing to the cap, not reset by the block.
      expect(Math.max(...h.sleeps)).toBe(999);
    });

    it('labels the block with the reply code, or connection for the link', async () => {
      const down = (cause: Error) => {
        const h = harness((call, events) => (call === 1 ? ok([failure(0, events, cause)]) : ok()));
        return h.processor.process([record(1, {})], h.control).then(() => h.states[0]);
      };
      expect(await down(new Error('connect ECONNREFUSED'))).toBe('blocked 0 connection');
      expect(await down(replyError('NOAUTH Authentication required.'))).toBe('blocked 0 NOAUTH');
      expect(await down(replyError('MISCONF no disk'))).toBe('blocked 0 MISCONF');
    });

    it('still dead-letters at once what is wrong with the event itself, blocked or not', async () => {
      const h = harness((call, events) =>
        ok(
          events.flatMap((e, i) =>
            e.id === 'e1'
              ? [failure(i, events, replyError('WRONGTYPE Operation against a key holding the wrong kind of value'))]
              : e.id === 'e2'
                ? [failure(i, events, replyError("CROSSSLOT Keys in request don't hash to the same slot"))]
                : call <= 3
                  ? [failure(i, events, new Error('Connection is closed.'))]
                  : [],
          ),
        ),
      );
      const outcome = await h.processor.process([record(1, {}), record(2, {}), record(3, {})], h.control);
      expect(outcome).toEqual({ status: 'done', applied: 1, deadLettered: 2 });
      expect(h.letters.map((l) => [l.event?.id, l.cause, l.attempts])).toEqual([
        ['e1', 'permanent', 1],
        ['e2', 'permanent', 1],
      ]);
      expect(h.calls).toEqual([['e1', 'e2', 'e3'], ['e3'], ['e3'], ['e3']]);
      expect(h.states).toEqual(['blocked 0 connection', 'unblocked 0']);
    });

    it('gives the partition up unblocked and uncommitted when the consumer stops while blocked', async () => {
      let rounds = 0;
      const h = harness(
        (_, events) => ok(events.map((_, i) => failure(i, events, new Error('Connection is closed.')))),
        {
          running: () => ++rounds < 20,
        },
      );
      expect(await h.processor.process([record(1, {})], h.control)).toEqual({ status: 'interrupted' });
      expect(h.letters).toEqual([]);
      expect(h.states).toEqual(['blocked 0 connection', 'unblocked 0']);
      expect(h.processor.blockedPartitions()).toEqual([]);
    });
  });

  it('lets a failing DLQ publish escape, so the chunk is not committed', async () => {
    const h = harness(() => ok(), { publish: () => Promise.reject(new Error('broker down')) });
    await expect(h.processor.process([record(1, null)], h.control)).rejects.toThrow('broker down');
  });

  describe('a RESYNC in the chunk', () => {
    it('applies what came before it, runs the resync, then applies what came after it', async () => {
      const h = harness(() => ok());
      const outcome = await h.processor.process([record(1, {}), resync(2), record(3, {})], h.control);
      expect(outcome).toEqual({ status: 'done', applied: 3, deadLettered: 0 });
      expect(h.order).toEqual(['apply e1', 'resync eu-west:resync:2', 'apply e3']);
      expect(h.resyncs).toEqual([
        {
          id: 'eu-west:resync:2',
          reason: 'slot-recreated',
          detail: 'slot fabric_eu_west recreated',
          recovery: { keys: [], tags: [], versions: [], patterns: ['user:*'] },
        },
      ]);
      expect(h.applied).toEqual(['e1', 'e2', 'e3']);
    });

    it('hands the recovery action the event carries to the job, and runs back-to-back resyncs in order', async () => {
      const h = harness(() => ok());
      const withAction = resync(1, { keys: ['cfg'], tags: ['team:1'], versions: ['ver:u'], patterns: ['u:*', 'o:*'] });
      const outcome = await h.processor.process([withAction, resync(2)], h.control);
      expect(outcome).toEqual({ status: 'done', applied: 2, deadLettered: 0 });
      expect(h.calls).toEqual([]);
      expect(h.resyncs.map((j) => [j.id, j.recovery])).toEqual([
        ['eu-west:resync:1', { keys: ['cfg'], tags: ['team:1'], versions: ['ver:u'], patterns: ['u:*', 'o:*'] }],
        ['eu-west:resync:2', { keys: [], tags: [], versions: [], patterns: ['user:*'] }],
      ]);
    });

    it('retries a throwing resync with backoff, past maxAttempts, and never dead-letters it', async () => {
      const h = harness(() => ok(), {
        resync: (call) => {
          if (call <= 5) throw new Error('Connection is closed.');
          return { status: 'done', keysDropped: 12 };
        },
      });
      const outcome = await h.processor.process([record(1, {}), resync(2), record(3, {})], h.control);
      expect(outcome).toEqual({ status: 'done', applied: 3, deadLettered: 0 });
      expect(h.resyncs).toHaveLength(6);
      // Same capped full-jitter backoff as applies (random()≈1), but not bounded by maxAttempts (4).
      expect(h.sleeps).toEqual([99, 199, 399, 799, 999]);
      expect(h.retries).toEqual([
        { events: 1, attempt: 1, delayMs: 99 },
        { events: 1, attempt: 2, delayMs: 199 },
        { events: 1, attempt: 3, delayMs: 399 },
        { events: 1, attempt: 4, delayMs: 799 },
        { events: 1, attempt: 5, delayMs: 999 },
      ]);
      expect(h.letters).toEqual([]);
      expect(h.order).toEqual(['apply e1', ...Array.from({ length: 6 }, () => 'resync eu-west:resync:2'), 'apply e3']);
    });

    it('retries twice then goes on, even when the resync error is a Redis reply', async () => {
      const h = harness(() => ok(), {
        resync: (call) => {
          if (call <= 2) throw replyError('ERR no recovery action');
          return { status: 'done', keysDropped: 0 };
        },
      });
      const outcome = await h.processor.process([resync(1), record(2, {})], h.control);
      expect(outcome).toEqual({ status: 'done', applied: 2, deadLettered: 0 });
      expect(h.sleeps).toEqual([99, 199]);
      expect(h.letters).toEqual([]);
      expect(h.applied).toEqual(['e1', 'e2']);
    });

    it('stops when the resync is interrupted: what came after it is not applied', async () => {
      const h = harness(() => ok(), { resync: () => ({ status: 'interrupted' }) });
      const outcome = await h.processor.process([record(1, {}), resync(2), record(3, {})], h.control);
      expect(outcome).toEqual({ status: 'interrupted' });
      expect(h.calls).toEqual([['e1']]);
      expect(h.applied).toEqual(['e1']);
      expect(h.letters).toEqual([]);
    });

    it('stops retrying a failing resync once the consumer stops', async () => {
      let running = true;
      const h = harness(() => ok(), {
        running: () => running,
        resync: () => {
          running = false;
          throw new Error('Connection is closed.');
        },
      });
      expect(await h.processor.process([resync(1), record(2, {})], h.control)).toEqual({ status: 'interrupted' });
      expect(h.resyncs).toHaveLength(1);
      expect(h.calls).toEqual([]);
      expect(h.applied).toEqual([]);
      expect(h.letters).toEqual([]);
    });

    it('tells the observer the resync was applied, with its partition', async () => {
      const seen: Array<[string, Operation, number]> = [];
      const processor = new BatchProcessor({
        apply: async () => ok(),
        resync: async () => ({ status: 'done', keysDropped: 3 }),
        publishDeadLetters: async () => {},
        policy,
        sleep: async () => {},
        random: () => 0.999,
        logger,
        observer: {
          applyResult() {},
          applied: (e, partition) => void seen.push([e.id, e.operation, partition]),
          retrying() {},
          deadLettered() {},
          heartbeatDropped() {},
        },
      });
      const r = { ...resync(5), partition: 2 };
      await processor.process([r], { heartbeat: async () => {}, isRunning: () => true });
      expect(seen).toEqual([['e5', Operation.RESYNC, 2]]);
    });

    it('exposes recover() for gaps the consumer finds: true once done, false when the consumer stopped', async () => {
      const job = {
        id: 'g',
        reason: 'offset-out-of-range',
        detail: '',
        recovery: { keys: [], tags: [], versions: [], patterns: [] },
      };
      const done = harness(() => ok(), {
        resync: (call) => {
          if (call === 1) throw new Error('ResyncError: no recovery action');
          return { status: 'done', keysDropped: 0 };
        },
      });
      expect(await done.processor.recover(job, done.control)).toBe(true);
      expect(done.sleeps).toEqual([99]);
      const stopped = harness(() => ok(), { resync: () => ({ status: 'interrupted' }) });
      expect(await stopped.processor.recover(job, stopped.control)).toBe(false);
    });

    it('dead-letters as invalid a RESYNC whose pattern has no literal prefix, without running it', async () => {
      const h = harness(() => ok());
      const outcome = await h.processor.process(
        [
          record(1, {}),
          resync(2, { patterns: ['*'] }),
          resync(3, { patterns: ['user:*', '?ser:*'] }),
          resync(4, { patterns: ['[a-z]*'] }),
          resync(5, { patterns: ['\\*x'] }),
          record(6, {}),
        ],
        h.control,
      );
      expect(outcome).toEqual({ status: 'done', applied: 2, deadLettered: 4 });
      expect(h.resyncs).toEqual([]);
      expect(h.calls).toEqual([['e1', 'e6']]);
      expect(h.letters.map((l) => [l.record.offset, l.cause, l.attempts])).toEqual([
        ['2', 'invalid', 0],
        ['3', 'invalid', 0],
        ['4', 'invalid', 0],
        ['5', 'invalid', 0],
      ]);
      expect(h.letters[0]!.reason).toContain('patterns[0] "*" has no literal prefix');
      expect(h.letters[1]!.reason).toContain('patterns[1] "?ser:*" has no literal prefix');
    });

    it('dead-letters as invalid a RESYNC without resync.id or resync.reason', async () => {
      const h = harness(() => ok());
      const outcome = await h.processor.process(
        [
          resync(1, { resync: create(ResyncSchema, { id: '', reason: 'slot-recreated', detail: '' }) }),
          resync(2, { resync: create(ResyncSchema, { id: 'eu-west:resync:2', reason: '', detail: '' }) }),
          record(3, { operation: Operation.RESYNC, keys: [], patterns: ['user:*'] }),
        ],
        h.control,
      );
      expect(outcome).toEqual({ status: 'done', applied: 0, deadLettered: 3 });
      expect(h.resyncs).toEqual([]);
      expect(h.calls).toEqual([]);
      expect(h.letters.map((l) => [l.cause, l.reason])).toEqual([
        ['invalid', 'invalid resync e1: resync.id is empty'],
        ['invalid', 'invalid resync e2: resync.reason is empty'],
        ['invalid', 'invalid resync e3: resync.id is empty'],
      ]);
    });
  });
});
