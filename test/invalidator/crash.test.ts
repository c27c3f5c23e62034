import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidationEventSchema, toBinary } from '@fabric/proto';
import { Redis } from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanup, uniquePrefix } from '../sdk/helpers.js';
import { eventually } from '../support.js';
import { groupLag, type InvalidatorUnderTest, invalidation, invalidatorFor, producerFor } from './harness.js';

/**
 * Commit after apply, under a crash: a real invalidator applying a steady stream of events
 * is killed with SIGKILL, and a successor in the same group takes its partitions. Every
 * event INCRs a version key of its own, so Redis tells exactly which events took effect and
 * how often. Events go to partition i % 3 in order, so event i sits at offset floor(i / 3):
 * the group's committed offsets compare directly with the effects.
 */
const PARTITIONS = 3;
const EVENTS = 4_000;
const PER_SEND = 50;
const SEND_EVERY_MS = 25; // about 2,000 events/s: the invalidator is busy whenever it is killed
const APPLIED_BEFORE_KILL = 1_000;

const partitionOf = (i: number) => i % PARTITIONS;
const offsetOf = (i: number) => Math.floor(i / PARTITIONS);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

interface State {
  /** Times each event's version key was INCRed; 0 = no effect yet. */
  versions: number[];
  /** Per partition, the group's committed offset: everything below it counts as done. */
  committed: number[];
}

describe('invalidator kill -9 under load', () => {
  const region = inject('endpoints').regions[2]!;
  const prefix = uniquePrefix('inv-crash');
  const versionKey = (i: number) => `ver:${prefix}${i}`;
  /**
   * A bump moves a version to max(current + 1, the Redis clock in µs). Seeded far above the
   * clock (and below 2^53, so the values stay exact), every bump is a +1: the value counts
   * how often each event was applied.
   */
  const SEED = 4_000_000_000_000_000;
  let redis: Redis;
  let admin: Admin;
  let inv: InvalidatorUnderTest;
  let producer: Awaited<ReturnType<typeof producerFor>>;

  beforeAll(async () => {
    redis = new Redis(region.redis.url);
    const all = range(0, EVENTS + 30 + PARTITIONS);
    for (let i = 0; i < all.length; i += 1000)
      await redis.mset(...all.slice(i, i + 1000).flatMap((n) => [versionKey(n), String(SEED)]));
    admin = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    inv = await invalidatorFor(region, { name: 'crash', extraArgs: ['--max-batch', '100'] });
    await inv.start();
    producer = await producerFor(region);
  });
  afterAll(async () => {
    await inv?.dispose();
    await producer?.disconnect();
    await admin?.disconnect();
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  const publish = (indices: number[]) =>
    producer.send({
      topic: inv.topic,
      acks: -1,
      messages: indices.map((i) => ({
        partition: partitionOf(i),
        key: `${prefix}k:${i}`,
        value: Buffer.from(
          toBinary(InvalidationEventSchema, invalidation({ keys: [`${prefix}k:${i}`], versions: [versionKey(i)] })),
        ),
      })),
    });

  const versions = async (indices: number[]) =>
    (await redis.mget(indices.map(versionKey))).map((v) => (v === null ? 0 : Number(v) - SEED));

  const state = async (): Promise<State> => {
    const [offsets] = await admin.fetchOffsets({ groupId: inv.groupId, topics: [inv.topic] });
    const committed = range(0, PARTITIONS).map((p) =>
      Math.max(0, Number(offsets?.partitions.find((x) => x.partition === p)?.offset ?? '-1')),
    );
    return { versions: await versions(range(0, EVENTS)), committed };
  };

  /** The state once two reads agree: what a frozen process had sent has reached Redis and the broker. */
  const settledState = () => {
    let previous: string | undefined;
    return eventually(
      'state settled',
      async () => {
        const s = await state();
        const same = JSON.stringify(s) === previous;
        previous = JSON.stringify(s);
        return same ? s : undefined;
      },
      5_000,
    );
  };

  /** Events the group had committed (offset below its position) without their effect: lost to a crash. */
  const committedWithoutEffect = (s: State) =>
    range(0, EVENTS).filter((i) => offsetOf(i) < s.committed[partitionOf(i)]! && s.versions[i] === 0);
  /** Events applied but not yet committed: the successor must apply them again. */
  const appliedUncommitted = (s: State) =>
    range(0, EVENTS).filter((i) => offsetOf(i) >= s.committed[partitionOf(i)]! && s.versions[i]! > 0);
  const appliedCount = (s: State) => s.versions.filter((n) => n > 0).length;

  it(`applies every one of ${EVENTS} events after kill -9 and a successor; only applied-but-uncommitted ones twice`, async () => {
    let published = 0;
    const publishing = (async () => {
      for (let i = 0; i < EVENTS; i += PER_SEND) {
        const started = Date.now();
        await publish(range(i, Math.min(i + PER_SEND, EVENTS)));
        published = Math.min(i + PER_SEND, EVENTS);
        await sleep(Math.max(0, SEND_EVERY_MS - (Date.now() - started)));
      }
    })();

    await eventually(
      'invalidator applying, with commits behind it',
      async () => {
        const s = await state();
        return appliedCount(s) >= APPLIED_BEFORE_KILL && s.committed.some((c) => c > 0) ? true : undefined;
      },
      30_000,
    );
    // Freeze it where it is (SIGSTOP: nothing more is applied or committed), read what it had
    // applied and committed, and kill it in exactly that state. A freeze right after a commit,
    // with nothing applied since, is outside the window: let it run on and freeze it again.
    const atKill = await eventually(
      'frozen with applied events not yet committed',
      async () => {
        inv.signal('SIGSTOP');
        const s = await settledState();
        if (appliedUncommitted(s).length > 0) return s;
        inv.signal('SIGCONT');
        return undefined;
      },
      20_000,
    );
    const publishedAtKill = published;
    await inv.kill();

    // Commit after apply at the moment of the crash: nothing below a committed offset lacks its
    // effect. A consumer that committed what it fetched before applying it would fail here.
    expect(committedWithoutEffect(atKill)).toEqual([]);
    const redelivered = appliedUncommitted(atKill);
    expect(redelivered.length, 'the kill landed between apply and commit').toBeGreaterThan(0);
    // Mid-run: some events took effect before the kill, and more were published after it.
    expect(appliedCount(atKill)).toBeGreaterThan(0);
    expect(publishedAtKill).toBeLessThan(EVENTS);

    await inv.start(); // the successor: same group and topic, takes the partitions once the dead member expires
    await publishing;
    await eventually(
      'the successor applied everything and committed to the end',
      async () =>
        (await groupLag(region, inv.groupId, inv.topic)) === 0 && appliedCount(await state()) === EVENTS
          ? true
          : undefined,
      60_000,
    );
    const final = await state();
    const duplicates = range(0, EVENTS).filter((i) => final.versions[i]! > 1);
    process.stderr.write(
      `[inv-crash] killed with ${appliedCount(atKill)} of ${EVENTS} applied, ${atKill.committed.reduce((a, b) => a + b, 0)} committed, ` +
        `${publishedAtKill} published; after the successor: 0 lost, ${duplicates.length} applied twice\n`,
    );
    expect(range(0, EVENTS).filter((i) => final.versions[i] === 0)).toEqual([]);
    // Exactly the events applied but not committed at the kill were applied again; nothing thrice.
    expect(duplicates).toEqual(redelivered);
    expect(Math.max(...final.versions)).toBe(2);
  }, 120_000);

  it('negative control: offsets committed ahead of the effects lose exactly those events, and the check sees it', async () => {
    expect(await inv.stop()).toBe(0); // leaves the group, so its offsets can be moved
    const skipped = range(EVENTS, EVENTS + 30);
    await publish(skipped);
    // What a consumer that commits on receipt leaves behind when it dies before applying.
    const ends = await admin.fetchTopicOffsets(inv.topic);
    await admin.setOffsets({
      groupId: inv.groupId,
      topic: inv.topic,
      partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
    });
    const sentinels = range(EVENTS + 30, EVENTS + 30 + PARTITIONS); // one per partition
    await publish(sentinels);
    await inv.start();
    await eventually(
      'the sentinel on every partition applied',
      async () =>
        (await versions(sentinels)).every((n) => n === 1) && (await groupLag(region, inv.groupId, inv.topic)) === 0
          ? true
          : undefined,
      30_000,
    );
    expect((await versions(skipped)).filter((n) => n === 0)).toHaveLength(skipped.length);
  }, 60_000);
});
