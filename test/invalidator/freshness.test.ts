import { create, InvalidationEventSchema, Operation, timestampFromMs, toBinary } from '@fabric/proto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support.js';
import { type InvalidatorUnderTest, invalidatorFor } from './harness.js';

/** This file's own metrics ports (its range is 23800-23999). */
const PORTS = { seeded: 23800, memberA: 23801, memberB: 23802, future: 23803 };

interface Status {
  freshnessSeconds: number | null;
  lastAppliedCommitTime: string | null;
  assigned: number[];
  applied: number;
  futureCommitTimesIgnored: number;
  partitions: Array<{ partition: number; lastAppliedCommitTime: string | null; source: string }>;
}

describe('invalidator freshness that tells the truth', () => {
  const region = inject('endpoints').regions[0]!;
  let producer: Producer;
  const running: InvalidatorUnderTest[] = [];
  const beats: NodeJS.Timeout[] = [];

  const status = async (inv: InvalidatorUnderTest) => (await inv.health()) as unknown as Status;
  const event = (operation: Operation, commitMs: number, n: number) =>
    Buffer.from(
      toBinary(
        InvalidationEventSchema,
        create(InvalidationEventSchema, {
          id: `freshness-test:${operation}:${commitMs}:${n}`,
          region: region.region,
          operation,
          primaryCommitTime: timestampFromMs(commitMs),
          keys: operation === Operation.MANUAL ? ['user:freshness'] : [],
        }),
      ),
    );
  const send = (topic: string, partitions: number[], operation: Operation, commitMs: number) =>
    producer.send({
      topic,
      acks: -1,
      messages: partitions.map((partition, n) => ({ partition, value: event(operation, commitMs, n) })),
    });
  /** What the home reader does for every partition while the application is idle. */
  const beatEvery = (ms: number, topic: string, partitions: number[], operation = Operation.HEARTBEAT) => {
    const timer = setInterval(() => void send(topic, partitions, operation, Date.now()).catch(() => undefined), ms);
    beats.push(timer);
    return timer;
  };
  const start = async (opts: Parameters<typeof invalidatorFor>[1]) => {
    const inv = await invalidatorFor(region, opts);
    running.push(inv);
    await inv.start();
    return inv;
  };

  beforeAll(async () => {
    producer = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
  });
  afterEach(async () => {
    for (const t of beats.splice(0)) clearInterval(t);
    for (const inv of running.splice(0)) {
      inv.signal('SIGCONT');
      await inv.dispose();
    }
  });
  afterAll(async () => {
    await producer?.disconnect();
  });

  it('counts a partition assigned but not applied (seeded at assignment), and no manual event moves it', async () => {
    const inv = await start({ name: 'fresh-seed', metricsPort: PORTS.seeded });
    // Partitions 0 and 1 beat; partition 2 gets only manual invalidations, whose time is
    // the control plane's clock and not a primary commit.
    beatEvery(300, inv.topic, [0, 1]);
    beatEvery(300, inv.topic, [2], Operation.MANUAL);
    const behind = await eventually(
      'freshness growing for the partition that applied nothing',
      async () => {
        const s = await status(inv);
        return (s.freshnessSeconds ?? 0) >= 5 ? s : undefined;
      },
      30_000,
    );
    expect(behind.assigned).toEqual([0, 1, 2]);
    // The other two partitions are fresh: the age comes from partition 2 alone.
    const fresh = (p: number) => behind.partitions.find((x) => x.partition === p)!;
    for (const p of [0, 1]) expect(Date.now() - Date.parse(fresh(p).lastAppliedCommitTime!)).toBeLessThan(3_000);
    expect(Date.now() - Date.parse(fresh(2).lastAppliedCommitTime!)).toBeGreaterThanOrEqual(5_000);
  });

  it('aggregates freshness over every member of the group, whichever member answers', async () => {
    const a = await start({ name: 'fresh-a', metricsPort: PORTS.memberA });
    beatEvery(300, a.topic, [0, 1, 2]);
    const b = await start({ name: 'fresh-b', metricsPort: PORTS.memberB, topic: a.topic, groupId: a.groupId });
    // Both members hold partitions and everything is fresh.
    const held = await eventually(
      'the group shared out and fresh',
      async () => {
        const [sa, sb] = [await status(a), await status(b)];
        return sa.assigned.length > 0 &&
          sb.assigned.length > 0 &&
          sa.assigned.length + sb.assigned.length === 3 &&
          (sa.freshnessSeconds ?? 99) < 2
          ? { a: sa.assigned, b: sb.assigned }
          : undefined;
      },
      40_000,
    );
    // B freezes while holding its partitions: they stop applying, A's keep applying.
    b.signal('SIGSTOP');
    const answer = await eventually(
      "member A reporting member B's stuck partitions",
      async () => {
        const s = await status(a);
        return (s.freshnessSeconds ?? 0) >= 4 ? s : undefined;
      },
      9_000,
    );
    const mine = answer.partitions.filter((p) => p.source === 'this').map((p) => p.partition);
    // Still before the group noticed (session timeout 10 s): A reports B's partitions from the group's records.
    if (mine.length === held.a.length)
      for (const p of held.b) expect(answer.partitions.find((x) => x.partition === p)?.source).toBe('group');
  });

  it('ignores a heartbeat time ahead of its clock, which would pin freshness at 0', async () => {
    const inv = await start({ name: 'fresh-future', metricsPort: PORTS.future });
    const all = [0, 1, 2];
    await send(inv.topic, all, Operation.HEARTBEAT, Date.now());
    const before = await eventually('the first beats applied', async () => {
      const s = await status(inv);
      return s.applied >= 3 ? s.applied : undefined;
    });
    // An hour ahead (a primary clock jump, a forged event), then ordinary beats behind it.
    await send(inv.topic, all, Operation.HEARTBEAT, Date.now() + 3_600_000);
    const marker = Date.now();
    await send(inv.topic, all, Operation.HEARTBEAT, marker);
    const after = await eventually('the future beats and the markers applied', async () => {
      const s = await status(inv);
      return s.applied >= before + 6 ? s : undefined;
    });
    expect(Date.parse(after.lastAppliedCommitTime!)).toBeLessThanOrEqual(Date.now() + 2_000);
    expect(Date.parse(after.lastAppliedCommitTime!)).toBeGreaterThanOrEqual(marker);
    expect(after.futureCommitTimesIgnored).toBe(3);
    // Freshness keeps counting from the real beats.
    const later = await eventually('freshness moving on', async () => {
      const s = await status(inv);
      return (s.freshnessSeconds ?? 0) >= 2 ? s : undefined;
    });
    expect(later.freshnessSeconds).toBeGreaterThanOrEqual(2);
  });
});
