import { type ControlPlaneConfig, DEFAULT_LIMITS } from '@fabric/control-plane';
import { create, DeadLetterSchema, InvalidationEventSchema, Operation, toBinary } from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support.js';
import {
  codeOf,
  createTopics,
  type RunningControlPlane,
  startTestControlPlane,
  type TestTopics,
  TOKENS,
  testConfig,
} from './harness.js';

const PORT = 24002;
const SMALL = 64 * 1024;
/** Dead letters whose originals are each a third of the small send limit. */
const LETTERS = 6;

describe('what one control plane accepts and holds', () => {
  const endpoints = inject('endpoints');
  const west = endpoints.regions.find((r) => r.region === 'eu-west')!;
  const kafka = new Kafka({ brokers: west.kafka.brokers, logLevel: logLevel.NOTHING });
  let topics: Map<string, TestTopics>;
  let config: ControlPlaneConfig;
  let cp: RunningControlPlane;
  let beforeStart: Set<string>;

  const scanGroups = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.listGroups();
      return new Set(groups.map((g) => g.groupId).filter((g) => g.startsWith('fabric-control-plane-scan-')));
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    topics = await createTopics(endpoints.regions, 'limits');
    const producer = kafka.producer();
    await producer.connect();
    const big = (i: number) =>
      create(InvalidationEventSchema, {
        id: `eu-west:0/3${i}:0`,
        region: 'eu-west',
        operation: Operation.UPDATE,
        keys: [`big:${i}:${'x'.repeat(SMALL / 3)}`],
      });
    await producer.send({
      topic: topics.get('eu-west')!.deadLetterTopic,
      acks: -1,
      messages: Array.from({ length: LETTERS }, (_, i) => ({
        value: Buffer.from(
          toBinary(
            DeadLetterSchema,
            create(DeadLetterSchema, {
              component: 'invalidator',
              reason: 'Redis timeout',
              original: toBinary(InvalidationEventSchema, big(i)),
            }),
          ),
        ),
      })),
    });
    await producer.disconnect();
    config = {
      ...(await testConfig({ port: PORT, topics })),
      limits: { ...DEFAULT_LIMITS, maxReceiveMessageBytes: SMALL, maxSendMessageBytes: SMALL },
    };
  });
  afterAll(() => cp?.stop());

  it('refuses a request over the receive limit with RESOURCE_EXHAUSTED before any handler runs', async () => {
    beforeStart = await scanGroups();
    cp = await startTestControlPlane(config);
    const admin = cp.client(TOKENS.admin);
    // Unknown region: a handler would answer NOT_FOUND; the size check comes first.
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}:${'y'.repeat(500)}`);
    expect(await codeOf(admin.invalidation.invalidate({ regions: ['nowhere'], keys }))).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
    });
    expect(await codeOf(admin.invalidation.invalidate({ regions: ['nowhere'], keys: ['k'] }))).toMatchObject({
      code: status.NOT_FOUND,
    });
  });

  it('ends a listing page early to stay under the send limit, and pages through the rest', async () => {
    const admin = cp.client(TOKENS.admin);
    const offsets: number[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await admin.deadLetters.listDeadLetters({ region: 'eu-west', pageSize: LETTERS, pageToken });
      expect(page.deadLetters.length).toBeGreaterThan(0);
      expect(page.deadLetters.length).toBeLessThan(LETTERS);
      offsets.push(...page.deadLetters.map((d) => Number(d.offset)));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken && pages < 10);
    expect(offsets).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads DLQs through a few reused consumer groups, and deletes them on stop', async () => {
    const admin = cp.client(TOKENS.admin);
    await admin.deadLetters.listDeadLetters({ region: 'eu-west', pageSize: 1 });
    const warm = await scanGroups();
    for (let i = 0; i < 5; i++) {
      await admin.deadLetters.listDeadLetters({ region: 'eu-west', pageSize: 1 });
      for await (const _ of admin.deadLetters.replayDeadLetters({ region: 'eu-west', dryRun: true })) {
        // drain
      }
      for await (const _ of admin.deadLetters.resolveDeadLetters({ region: 'eu-west', dryRun: true, note: 'n' })) {
        // drain
      }
    }
    const after = await scanGroups();
    expect([...after].filter((g) => !warm.has(g))).toEqual([]);
    const ours = [...after].filter((g) => !beforeStart.has(g));
    expect(ours.length).toBeGreaterThan(0);
    await cp.stop();
    await eventually('the scan groups deleted', async () => {
      const left = await scanGroups();
      return ours.every((g) => !left.has(g)) ? true : undefined;
    });
  });
});
