import { replayLedgerTopic } from '@fabric/contracts';
import type { ControlPlaneClient } from '@fabric/control-plane';
import {
  create,
  DeadLetterSchema,
  DeadLetterState,
  InvalidationEventSchema,
  Operation,
  ReplayOutcome,
  type ResolveDeadLettersResponse,
  ResolveOutcome,
  timestampFromDate,
  toBinary,
} from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support.js';
import {
  codeOf,
  createTopics,
  type RunningControlPlane,
  readRecords,
  startTestControlPlane,
  type TestTopics,
  TOKENS,
  testConfig,
} from './harness.js';

const PORT = 24000;
const RESTARTED_PORT = 24001;

const event = create(InvalidationEventSchema, {
  id: 'eu-west:0/2A:0',
  region: 'eu-west',
  table: 'public.users',
  operation: Operation.UPDATE,
  keys: ['user:100', 'user:email:ada@example.com'],
});
const letter = (init: Parameters<typeof create<typeof DeadLetterSchema>>[1]) =>
  Buffer.from(
    toBinary(
      DeadLetterSchema,
      create(DeadLetterSchema, { region: 'eu-west', failedTime: timestampFromDate(new Date()), ...init }),
    ),
  );

/** DLQ offsets 0..3: one replayable, one no rule rendered, one undecodable original, one not a DeadLetter. */
const DLQ = [
  letter({
    component: 'invalidator',
    reason: 'Redis timeout after 5 attempts',
    attempts: 5,
    original: toBinary(InvalidationEventSchema, event),
    table: 'public.users',
    sourceLsn: '0/2A',
  }),
  letter({
    component: 'cdc-reader',
    reason: 'cannot render key user:email:{email} for update on public.users (row id=100): column email missing',
    table: 'public.users',
    change: JSON.stringify({ kind: 'update', table: 'public.users', newRow: { id: '100', name: 'Ada Lovelace' } }),
    sourceLsn: '0/2B',
  }),
  letter({
    component: 'invalidator',
    reason: 'undecodable: premature EOF',
    original: Buffer.from([0x0a, 0xff, 0x01]),
    sourceTopic: 'fabric.inval.eu-west',
    sourcePartition: 2,
    sourceOffset: 17n,
  }),
  Buffer.from([0x0a, 0xff, 0x01]),
];

async function resolve(
  client: ControlPlaneClient,
  request: Parameters<ControlPlaneClient['deadLetters']['resolveDeadLetters']>[0],
) {
  const messages: ResolveDeadLettersResponse[] = [];
  for await (const m of client.deadLetters.resolveDeadLetters(request)) messages.push(m);
  return { last: messages[messages.length - 1]!, items: messages.flatMap((m) => m.items) };
}

describe('resolving dead letters no replay can fix', () => {
  const endpoints = inject('endpoints');
  const west = endpoints.regions.find((r) => r.region === 'eu-west')!;
  let topics: Map<string, TestTopics>;
  let cp: RunningControlPlane;
  let admin: ControlPlaneClient;

  beforeAll(async () => {
    topics = await createTopics(endpoints.regions, 'dlq-resolve');
    const producer = new Kafka({ brokers: west.kafka.brokers, logLevel: logLevel.NOTHING }).producer();
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

  it('says per case what to do instead of a replay', async () => {
    const { deadLetters } = await admin.deadLetters.listDeadLetters({ region: 'eu-west' });
    const hints = deadLetters.map((d) => d.notReplayableReason);
    expect(hints[0]).toBe('');
    expect(hints[1]).toMatch(
      /^no original event \(cdc-reader\): no key rule could render the change; fix the key rules/,
    );
    expect(hints[2]).toMatch(
      /^original is not a decodable InvalidationEvent .*check the producer of fabric\.inval\.eu-west\[2\], then resolve it$/,
    );
    expect(hints[3]).toMatch(/^not a DeadLetter .*then resolve it$/);
    for (const hint of hints.slice(1)) {
      expect(hint).toContain('resolve it');
      expect(hint).not.toContain('repeat the source change');
    }
  });

  it('shows a read token where and why, without row data', async () => {
    const read = await cp.client(TOKENS.read).deadLetters.listDeadLetters({ region: 'eu-west' });
    const full = await admin.deadLetters.listDeadLetters({ region: 'eu-west' });
    expect(full.deadLetters.map((d) => d.redacted)).toEqual([false, false, false, false]);
    expect(full.deadLetters[0]!.event?.keys).toEqual(event.keys);
    expect(full.deadLetters[1]!.deadLetter?.change).toContain('Ada Lovelace');

    expect(read.deadLetters.map((d) => d.redacted)).toEqual([true, true, true, true]);
    const [replayable, unrendered] = read.deadLetters;
    expect(replayable!.event).toMatchObject({ id: event.id, table: 'public.users', keys: [], tags: [] });
    expect(replayable!.deadLetter).toMatchObject({ reason: 'Redis timeout after 5 attempts', sourceLsn: '0/2A' });
    expect(replayable!.deadLetter!.original).toHaveLength(0);
    expect(unrendered!.deadLetter).toMatchObject({ table: 'public.users', sourceLsn: '0/2B' });
    expect(unrendered!.deadLetter!.change).toMatch(/^\(redacted: /);
    expect(JSON.stringify(read.deadLetters, (_, v) => (typeof v === 'bigint' ? String(v) : v))).not.toMatch(
      /Ada Lovelace|ada@example\.com/,
    );
    // Replayability and the hints are judged on the full record.
    expect(read.deadLetters.map((d) => [d.replayable, d.notReplayableReason])).toEqual(
      full.deadLetters.map((d) => [d.replayable, d.notReplayableReason]),
    );
  });

  it('refuses a resolution without a note, region or admin token, naming the field', async () => {
    expect(await codeOf(resolve(admin, { region: 'eu-west' }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'note: say why these dead letters need no replay; it is recorded',
    });
    expect(await codeOf(resolve(admin, { note: 'x' }))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^region: /),
    });
    expect(await codeOf(resolve(admin, { region: 'eu-west', note: 'x'.repeat(501) }))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'note: at most 500 characters, got 501',
    });
    expect(
      await codeOf(
        resolve(admin, { region: 'eu-west', note: 'x', range: { case: 'offsets', value: { partition: 4 } } }),
      ),
    ).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^offsets\.partition: /) });
    expect(await codeOf(resolve(cp.client(TOKENS.read), { region: 'eu-west', note: 'x' }))).toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });

  it('resolves what is pending, records who, when and why, and the DLQ depth returns to 0', async () => {
    const replayed = [];
    for await (const m of admin.deadLetters.replayDeadLetters({ region: 'eu-west' })) replayed.push(m);
    expect(replayed.at(-1)).toMatchObject({ replayed: 1n, notReplayable: 3n });
    expect((await admin.deadLetters.listDeadLetters({ region: 'eu-west' })).pending).toBe(3n);

    const dry = await resolve(admin, { region: 'eu-west', note: 'producer fixed in v2.3', dryRun: true });
    expect(dry.last).toMatchObject({ done: true, dryRun: true, total: 4n, matched: 4n, resolved: 3n, skipped: 1n });
    expect((await admin.deadLetters.listDeadLetters({ region: 'eu-west' })).pending).toBe(3n);

    const before = Date.now();
    const done = await resolve(admin, { region: 'eu-west', note: 'producer fixed in v2.3' });
    expect(done.last).toMatchObject({ done: true, dryRun: false, resolved: 3n, skipped: 1n });
    expect(done.items.map((i) => [Number(i.offset), i.outcome])).toEqual([
      [0, ResolveOutcome.ALREADY_SETTLED],
      [1, ResolveOutcome.RESOLVED],
      [2, ResolveOutcome.RESOLVED],
      [3, ResolveOutcome.RESOLVED],
    ]);
    expect(done.items[0]!.reason).toMatch(/^replayed by test-admin at /);

    const ledger = await readRecords(west, replayLedgerTopic(topics.get('eu-west')!.deadLetterTopic), 4);
    expect(ledger.map((r) => r.key)).toEqual(['0:0', '0:1', '0:2', '0:3']);
    const record = JSON.parse(ledger[1]!.value.toString()) as { by: string; note: string; resolvedAt: string };
    expect(record).toMatchObject({ by: 'test-admin', note: 'producer fixed in v2.3' });
    expect(Date.parse(record.resolvedAt)).toBeGreaterThanOrEqual(before - 1_000);

    const listing = await admin.deadLetters.listDeadLetters({ region: 'eu-west' });
    expect(listing.pending).toBe(0n);
    expect(listing.deadLetters.map((d) => d.state)).toEqual([
      DeadLetterState.REPLAYED,
      DeadLetterState.RESOLVED,
      DeadLetterState.RESOLVED,
      DeadLetterState.RESOLVED,
    ]);
    expect(listing.deadLetters[2]).toMatchObject({ settledBy: 'test-admin', resolutionNote: 'producer fixed in v2.3' });
    expect(
      (await admin.deadLetters.listDeadLetters({ region: 'eu-west', pendingOnly: true })).deadLetters,
    ).toHaveLength(0);
    await eventually('a DLQ depth of 0 in the lag report', async () => {
      const lag = await admin.lag.getLag({ region: 'eu-west' });
      return lag.regions[0]!.deadLetters === 0n ? true : undefined;
    });

    // Nothing is pending any more: a second resolution records nothing, a replay skips them.
    const again = await resolve(admin, { region: 'eu-west', note: 'again' });
    expect(again.last).toMatchObject({ resolved: 0n, skipped: 4n });
    const dryReplay = [];
    for await (const m of admin.deadLetters.replayDeadLetters({ region: 'eu-west', dryRun: true }))
      dryReplay.push(...m.items);
    expect(dryReplay.map((i) => i.outcome)).toEqual([
      ReplayOutcome.ALREADY_REPLAYED,
      ReplayOutcome.RESOLVED,
      ReplayOutcome.RESOLVED,
      ReplayOutcome.RESOLVED,
    ]);
  });

  it('remembers resolutions across a control-plane restart', async () => {
    const restarted = await startTestControlPlane(await testConfig({ port: RESTARTED_PORT, topics }));
    try {
      const listing = await restarted.client(TOKENS.admin).deadLetters.listDeadLetters({ region: 'eu-west' });
      expect(listing.pending).toBe(0n);
      expect(listing.deadLetters[1]).toMatchObject({
        state: DeadLetterState.RESOLVED,
        settledBy: 'test-admin',
        resolutionNote: 'producer fixed in v2.3',
      });
    } finally {
      await restarted.stop();
    }
  });
});
