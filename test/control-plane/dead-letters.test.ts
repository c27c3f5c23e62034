import { replayLedgerTopic } from '@fabric/contracts';
import type { ControlPlaneClient } from '@fabric/control-plane';
import {
  create,
  DeadLetterSchema,
  fromBinary,
  InvalidationEventSchema,
  Operation,
  type ReplayDeadLettersResponse,
  ReplayOutcome,
  timestampFromDate,
  toBinary,
} from '@fabric/proto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createTopics,
  type RunningControlPlane,
  readRecords,
  startTestControlPlane,
  type TestTopics,
  TOKENS,
  testConfig,
  topicEnds,
} from './harness.js';

const PORT = 31003;
const RESTARTED_PORT = 31008;

const events = [
  create(InvalidationEventSchema, {
    id: 'eu-west:0/1A:0',
    region: 'eu-west',
    table: 'public.users',
    operation: Operation.UPDATE,
    keys: ['user:100', 'user:100:profile'],
  }),
  create(InvalidationEventSchema, {
    id: 'eu-west:0/1B:0',
    region: 'eu-west',
    table: 'public.teams',
    operation: Operation.UPDATE,
    tags: ['team:5:members'],
  }),
  create(InvalidationEventSchema, {
    id: 'eu-west:0/1C:0',
    region: 'eu-west',
    table: 'public.products',
    operation: Operation.DELETE,
    keys: ['product:9'],
  }),
];
const failedAt = new Date(Date.now() - 60_000);
const letter = (init: Parameters<typeof create<typeof DeadLetterSchema>>[1]) =>
  Buffer.from(
    toBinary(
      DeadLetterSchema,
      create(DeadLetterSchema, { region: 'eu-west', failedTime: timestampFromDate(failedAt), ...init }),
    ),
  );

/** DLQ offsets 0..4: three replayable, one reader-side (no original), one not a DeadLetter at all. */
const DLQ = [
  letter({
    component: 'invalidator',
    reason: 'Redis timeout after 5 attempts',
    attempts: 5,
    original: toBinary(InvalidationEventSchema, events[0]!),
    table: 'public.users',
  }),
  letter({
    component: 'cdc-reader',
    reason: 'key rule user:email:{email}: column email missing',
    table: 'public.users',
    change: '{"id":"100"}',
    sourceLsn: '0/1A',
  }),
  letter({
    component: 'invalidator',
    reason: 'WRONGTYPE tag set',
    attempts: 1,
    original: toBinary(InvalidationEventSchema, events[1]!),
  }),
  Buffer.from([0x0a, 0xff, 0x01]),
  letter({
    component: 'invalidator',
    reason: 'Redis timeout after 5 attempts',
    attempts: 5,
    original: toBinary(InvalidationEventSchema, events[2]!),
  }),
];

async function replay(
  client: ControlPlaneClient,
  request: Parameters<ControlPlaneClient['deadLetters']['replayDeadLetters']>[0],
) {
  const messages: ReplayDeadLettersResponse[] = [];
  for await (const m of client.deadLetters.replayDeadLetters(request)) messages.push(m);
  const last = messages[messages.length - 1]!;
  return { messages, last, items: messages.flatMap((m) => m.items) };
}

describe('DeadLetterService against real Kafka', () => {
  const endpoints = inject('endpoints');
  const west = endpoints.regions.find((r) => r.region === 'eu-west')!;
  let topics: Map<string, TestTopics>;
  let cp: RunningControlPlane;
  let admin: ControlPlaneClient;

  beforeAll(async () => {
    topics = await createTopics(endpoints.regions, 'dlq');
    const producer = new Kafka({ brokers: west.kafka.brokers, logLevel: logLevel.NOTHING }).producer({
      idempotent: true,
    });
    await producer.connect();
    await producer.send({
      topic: topics.get('eu-west')!.deadLetterTopic,
      acks: -1,
      messages: DLQ.map((value) => ({ value })),
    });
    await producer.disconnect();
    cp = await startTestControlPlane(await testConfig({ port: PORT, topics }));
    admin = cp.client(TOKENS.admin);
  });
  afterAll(() => cp?.stop());

  it('lists dead letters in pages, saying which can be replayed and why not', async () => {
    const reader = cp.client(TOKENS.read);
    const first = await reader.deadLetters.listDeadLetters({ region: 'eu-west', pageSize: 2 });
    const second = await reader.deadLetters.listDeadLetters({
      region: 'eu-west',
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    const third = await reader.deadLetters.listDeadLetters({
      region: 'eu-west',
      pageSize: 2,
      pageToken: second.nextPageToken,
    });
    expect([first, second, third].map((p) => p.deadLetters.map((d) => Number(d.offset)))).toEqual([
      [0, 1],
      [2, 3],
      [4],
    ]);
    expect(third.nextPageToken).toBe('');
    expect(first.pending).toBe(5n);
    const [invalidatorLetter, readerLetter] = first.deadLetters;
    expect(invalidatorLetter).toMatchObject({
      region: 'eu-west',
      partition: 0,
      replayable: true,
      replayed: false,
      notReplayableReason: '',
    });
    // A read token sees where and why, not the row data (the keys); admin sees them.
    expect(invalidatorLetter).toMatchObject({ redacted: true, event: { id: events[0]!.id, keys: [] } });
    const full = await admin.deadLetters.listDeadLetters({ region: 'eu-west', pageSize: 1 });
    expect(full.deadLetters[0]!.event?.keys).toEqual(['user:100', 'user:100:profile']);
    expect(invalidatorLetter!.deadLetter).toMatchObject({
      component: 'invalidator',
      reason: 'Redis timeout after 5 attempts',
      attempts: 5,
    });
    expect(readerLetter).toMatchObject({
      replayable: false,
      notReplayableReason: expect.stringContaining('no original event (cdc-reader)'),
    });
    expect(second.deadLetters[1]).toMatchObject({
      replayable: false,
      notReplayableReason: expect.stringContaining('not a DeadLetter'),
    });
  });

  it('filters by component, reason, table and time, across all regions', async () => {
    const offsets = async (request: Parameters<ControlPlaneClient['deadLetters']['listDeadLetters']>[0]) =>
      (await admin.deadLetters.listDeadLetters(request)).deadLetters.map((d) => `${d.region}:${d.offset}`);
    expect(await offsets({ filter: { component: 'invalidator' } })).toEqual(['eu-west:0', 'eu-west:2', 'eu-west:4']);
    expect(await offsets({ region: 'eu-west', filter: { reasonContains: 'REDIS TIMEOUT' } })).toEqual([
      'eu-west:0',
      'eu-west:4',
    ]);
    expect(await offsets({ region: 'eu-west', filter: { table: 'public.users' } })).toEqual(['eu-west:0', 'eu-west:1']);
    const justAfter = timestampFromDate(new Date(failedAt.getTime() + 1));
    // Offset 3 is no DeadLetter, so it has no failed_time: the Kafka record time (now) stands in.
    expect(await offsets({ region: 'eu-west', timeRange: { sinceTime: justAfter } })).toEqual(['eu-west:3']);
    expect(await offsets({ region: 'eu-west', timeRange: { untilTime: justAfter } })).toEqual([
      'eu-west:0',
      'eu-west:1',
      'eu-west:2',
      'eu-west:4',
    ]);
  });

  it('counts what a dry run would do and publishes nothing', async () => {
    const { last, items, messages } = await replay(admin, { region: 'eu-west', dryRun: true });
    expect(last).toMatchObject({
      done: true,
      dryRun: true,
      total: 5n,
      scanned: 5n,
      matched: 5n,
      replayed: 3n,
      skipped: 0n,
      notReplayable: 2n,
    });
    expect(messages[0]).toMatchObject({ done: false, total: 5n, scanned: 0n });
    expect(items.map((i) => [Number(i.offset), i.outcome])).toEqual([
      [0, ReplayOutcome.WOULD_REPLAY],
      [1, ReplayOutcome.NOT_REPLAYABLE],
      [2, ReplayOutcome.WOULD_REPLAY],
      [3, ReplayOutcome.NOT_REPLAYABLE],
      [4, ReplayOutcome.WOULD_REPLAY],
    ]);
    expect(await topicEnds(west, topics.get('eu-west')!.topic)).toEqual([0n, 0n, 0n]);
    const inFuture = await replay(admin, {
      region: 'eu-west',
      dryRun: true,
      range: { case: 'timeRange', value: { sinceTime: timestampFromDate(new Date()) } },
    });
    expect(inFuture.last).toMatchObject({ scanned: 5n, matched: 0n, replayed: 0n });
  });

  it('publishes the originals of an offset range to the region topic and records them', async () => {
    const { last, items } = await replay(admin, {
      region: 'eu-west',
      range: { case: 'offsets', value: { fromOffset: 0n, toOffset: 2n } },
    });
    expect(last).toMatchObject({ dryRun: false, total: 3n, scanned: 3n, replayed: 2n, notReplayable: 1n, skipped: 0n });
    expect(items.filter((i) => i.outcome === ReplayOutcome.REPLAYED).map((i) => i.eventId)).toEqual([
      events[0]!.id,
      events[1]!.id,
    ]);
    const published = await readRecords(west, topics.get('eu-west')!.topic, 2);
    // The original bytes, keyed like the reader keys them (first key, else first tag).
    expect(
      published
        .map((r) => [
          r.key,
          Buffer.compare(
            r.value,
            Buffer.from(toBinary(InvalidationEventSchema, events[r.key === 'user:100' ? 0 : 1]!)),
          ),
        ])
        .sort(),
    ).toEqual([
      ['team:5:members', 0],
      ['user:100', 0],
    ]);
    const ledger = await readRecords(west, replayLedgerTopic(topics.get('eu-west')!.deadLetterTopic), 2);
    expect(ledger.map((r) => r.key)).toEqual(['0:0', '0:2']);
    expect(JSON.parse(ledger[0]!.value.toString())).toMatchObject({ by: 'test-admin', eventId: events[0]!.id });
  });

  it('skips what was replayed when replaying again, so nothing is applied twice', async () => {
    const again = await replay(admin, { region: 'eu-west' });
    expect(again.last).toMatchObject({ replayed: 1n, skipped: 2n, notReplayable: 2n });
    expect(
      again.items.filter((i) => i.outcome === ReplayOutcome.ALREADY_REPLAYED).map((i) => Number(i.offset)),
    ).toEqual([0, 2]);
    const third = await replay(admin, { region: 'eu-west' });
    expect(third.last).toMatchObject({ replayed: 0n, skipped: 3n, notReplayable: 2n });
    const ends = await topicEnds(west, topics.get('eu-west')!.topic);
    expect(ends.reduce((a, b) => a + b, 0n)).toBe(3n);
  });

  it('reports replayed state, pending dead letters and DLQ depth, also after a control-plane restart', async () => {
    const listing = await admin.deadLetters.listDeadLetters({ region: 'eu-west' });
    expect(listing.deadLetters.map((d) => d.replayed)).toEqual([true, false, true, false, true]);
    expect(listing.pending).toBe(2n);
    const pendingOnly = await admin.deadLetters.listDeadLetters({ region: 'eu-west', pendingOnly: true });
    expect(pendingOnly.deadLetters.map((d) => Number(d.offset))).toEqual([1, 3]);
    const lag = await admin.lag.getLag({ region: 'eu-west' });
    expect(lag.regions[0]!.deadLetters).toBe(2n);

    // The ledger lives in Kafka: a fresh control plane knows what was replayed.
    const restarted = await startTestControlPlane(await testConfig({ port: RESTARTED_PORT, topics }));
    try {
      const dry = await replay(restarted.client(TOKENS.admin), { region: 'eu-west', dryRun: true });
      expect(dry.last).toMatchObject({ replayed: 0n, skipped: 3n, notReplayable: 2n });
    } finally {
      await restarted.stop();
    }
  });

  it('publishes again with force', async () => {
    const forced = await replay(admin, { region: 'eu-west', force: true, filter: { component: 'invalidator' } });
    expect(forced.last).toMatchObject({ matched: 3n, replayed: 3n, skipped: 0n, notReplayable: 0n });
    const records = await readRecords(west, topics.get('eu-west')!.topic, 6);
    expect(records.map((r) => fromBinary(InvalidationEventSchema, r.value).id).sort()).toEqual(
      [...events, ...events].map((e) => e.id).sort(),
    );
  });

  it('refuses a replay range the DLQ does not have', async () => {
    const err = await replay(admin, { region: 'eu-west', range: { case: 'offsets', value: { partition: 3 } } }).catch(
      (e: { code: number; details: string }) => e,
    );
    expect(err).toMatchObject({
      code: 3,
      details: expect.stringMatching(/^offsets\.partition: .* has no partition 3 \(it has 1\)$/),
    });
  });
});
