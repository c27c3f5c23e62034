import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { create, DeadLetterSchema, InvalidationEventSchema, Operation, toBinary } from '@fabric/proto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createTopics,
  type RunningControlPlane,
  startTestControlPlane,
  type TestTopics,
  TOKENS,
  testConfig,
} from './harness.js';

const PORT = 31010;
const CLI = path.resolve('packages/cli/dist/bin.js');
// ~1.3 KB each: the DLQ is several times kafkajs's 1 MB fetch per partition, as after a long outage.
const LETTERS = 3000;

describe('a dead-letter queue larger than one fetch', () => {
  const endpoints = inject('endpoints');
  const west = endpoints.regions.find((r) => r.region === 'eu-west')!;
  let topics: Map<string, TestTopics>;
  let cp: RunningControlPlane;

  beforeAll(async () => {
    topics = await createTopics(endpoints.regions, 'bigdlq');
    const producer = new Kafka({ brokers: west.kafka.brokers, logLevel: logLevel.NOTHING }).producer({
      idempotent: true,
    });
    await producer.connect();
    const padding = 'x'.repeat(1200);
    for (let i = 0; i < LETTERS; i += 500) {
      const messages = Array.from({ length: 500 }, (_, j) => {
        const event = create(InvalidationEventSchema, {
          id: `eu-west:0/${i + j}:0`,
          region: 'eu-west',
          operation: Operation.UPDATE,
          keys: [`user:${i + j}:${padding}`],
        });
        const letter = create(DeadLetterSchema, {
          region: 'eu-west',
          component: 'invalidator',
          reason: 'Redis down',
          attempts: 8,
          original: toBinary(InvalidationEventSchema, event),
        });
        return { value: Buffer.from(toBinary(DeadLetterSchema, letter)) };
      });
      await producer.send({ topic: topics.get('eu-west')!.deadLetterTopic, acks: -1, messages });
    }
    await producer.disconnect();
    cp = await startTestControlPlane(await testConfig({ port: PORT, topics }));
  });
  afterAll(() => cp?.stop());

  it('replays every dead letter, not only the first fetch', async () => {
    const client = cp.client(TOKENS.admin);
    let last: unknown;
    for await (const m of client.deadLetters.replayDeadLetters({ region: 'eu-west', dryRun: true })) last = m;
    expect(last).toMatchObject({
      done: true,
      scanned: BigInt(LETTERS),
      matched: BigInt(LETTERS),
      replayed: BigInt(LETTERS),
    });
  }, 60_000);

  it('pages through to the last dead letter', async () => {
    const client = cp.client(TOKENS.read);
    const offsets: number[] = [];
    let pageToken = '';
    do {
      const page = await client.deadLetters.listDeadLetters({ region: 'eu-west', pageSize: 500, pageToken });
      offsets.push(...page.deadLetters.map((d) => Number(d.offset)));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(offsets).toEqual(Array.from({ length: LETTERS }, (_, i) => i));
  }, 60_000);

  it('hands the whole --json answer to a pipe (the CLI exits only after stdout drained)', async () => {
    const { FABRIC_CONTROL_PLANE: _a, FABRIC_TOKEN: _b, FABRIC_STATE_DIR: _c, ...env } = process.env;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        CLI,
        'dlq',
        'replay',
        '--server',
        cp.address,
        '--token',
        TOKENS.admin,
        '--region',
        'eu-west',
        '--dry-run',
        '--json',
      ],
      {
        env,
        maxBuffer: 1 << 26,
        timeout: 60_000,
      },
    );
    expect(stdout.length).toBeGreaterThan(1 << 17);
    const answer = JSON.parse(stdout) as { replayed: string; items: unknown[] };
    expect(answer.replayed).toBe(String(LETTERS));
    expect(answer.items).toHaveLength(LETTERS);
  }, 60_000);
});
