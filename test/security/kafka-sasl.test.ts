import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import { deadLetterTopic, invalidationTopic } from '@fabric/contracts';
import { InvalidationEventSchema } from '@fabric/proto';
import { createKafka, type KafkaSecurity, parseKafkaSecurity } from '@fabric/runtime';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { invalidation } from '../invalidator/harness.js';
import { eventually } from '../support.js';
import { type SecureBroker, startSecureBroker } from './secure-broker.js';

/** This suite's own ports (24200: the broker, 24201: its controller; 24202: an invalidator's metrics). */
const PORT = 24200;
const INVALIDATOR = path.resolve('packages/invalidator/dist/main.js');

describe('Kafka with TLS and SCRAM', () => {
  const redisRegion = inject('endpoints').regions[0]!;
  let secure: SecureBroker;
  const readFile = (f: string) => readFileSync(f, 'utf8');
  const flags = (extra: Record<string, string> = {}) => ({
    'kafka-ca': secure.file('ca.pem'),
    'kafka-sasl': 'scram-sha-512',
    'kafka-username': secure.user.name,
    'kafka-password-file': secure.file('password'),
    ...extra,
  });
  /** `retries` 0 for a client that is meant to be refused: its first error is the answer. */
  const client = (security: KafkaSecurity, name = 'client', retries = 8): Kafka =>
    createKafka({
      clientId: `security-test-${name}`,
      brokers: [secure.broker],
      logger: pino({ level: 'silent' }),
      security,
      retry: { retries },
      connectionTimeout: 3_000,
      requestTimeout: 5_000,
    });
  /** Connects an admin and lists topics: the first request an unauthenticated client would be refused. */
  const refusal = async (kafka: Kafka): Promise<Error> => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
    } catch (err) {
      return err as Error;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    throw new Error('the broker let the client in');
  };

  beforeAll(async () => {
    secure = await startSecureBroker({
      port: PORT,
      region: 'secure',
      dir: path.resolve('.fabric/security-kafka'),
    });
  });
  afterAll(async () => {
    await secure?.stop();
  });

  it('lets a client with credentials over TLS produce and consume (flags through the shared parser)', async () => {
    const kafka = client(parseKafkaSecurity(flags(), {}, readFile));
    const topic = invalidationTopic('secure');
    const marker = randomUUID();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: marker, value: marker }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `security-test-${marker}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let received: string | undefined;
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value?.toString() === marker) received = message.key!.toString();
      },
    });
    try {
      expect(await eventually('the message back', async () => received, 60_000)).toBe(marker);
    } finally {
      await consumer.disconnect();
    }
  });

  it('refuses a client without credentials, with a wrong password, in plaintext, or trusting another CA', async () => {
    const noCredentials = await refusal(
      client(parseKafkaSecurity({ 'kafka-ca': secure.file('ca.pem') }, {}, readFile), 'anonymous', 0),
    );
    // The broker hangs up on the first request that is not a SASL handshake.
    expect(noCredentials.name).toBe('KafkaJSConnectionClosedError');

    const wrongPassword = await refusal(
      client(
        parseKafkaSecurity(flags({ 'kafka-password-file': secure.file('wrong-password') }), {}, readFile),
        'wrong',
        0,
      ),
    );
    expect(wrongPassword.name).toBe('KafkaJSSASLAuthenticationError');
    expect(wrongPassword.message).toMatch(/authentication failed/i);

    const plaintext = await refusal(client({}, 'plaintext', 0));
    expect(plaintext.message).toMatch(/Closed connection/);

    const otherCa = await refusal(
      client(parseKafkaSecurity(flags({ 'kafka-ca': secure.file('other-ca.pem') }), {}, readFile), 'other-ca', 0),
    );
    expect(otherCa.message).toMatch(/unable to verify the first certificate/);
  });

  /** An invalidator of the secure region with the given Kafka flags; its stdout and stderr in `output`. */
  const invalidatorWith = (kafkaFlags: string[]) => {
    const output: string[] = [];
    const child: ChildProcess = spawn(
      process.execPath,
      [
        INVALIDATOR,
        ...['--region', 'secure', '--kafka', secure.broker, ...kafkaFlags],
        ...['--redis', redisRegion.redis.url, '--metrics-port', String(PORT + 2)],
        ...['--topic', invalidationTopic('secure'), '--dlq-topic', deadLetterTopic(invalidationTopic('secure'))],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FABRIC_LOG_LEVEL: 'info' } },
    );
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    return { child, output };
  };

  it('runs the invalidator through --kafka-tls/--kafka-sasl flags: an event reaches Redis', async () => {
    const redis = new Redis(redisRegion.redis.url);
    const key = `security:kafka:${randomUUID()}`;
    await redis.set(key, 'cached');
    const { child, output } = invalidatorWith([
      ...['--kafka-ca', secure.file('ca.pem'), '--kafka-sasl', 'scram-sha-256'],
      ...['--kafka-username', secure.user.name, '--kafka-password-file', secure.file('password')],
    ]);
    try {
      await eventually('invalidator started', async () => {
        if (child.exitCode !== null) throw new Error(`invalidator exited: ${output.join('')}`);
        return output.join('').includes('invalidator started') ? true : undefined;
      });
      const started = output.join('');
      expect(started).toContain('tls+sasl/scram-sha-256 as fabric');
      const producer = client(parseKafkaSecurity(flags(), {}, readFile), 'producer').producer();
      await producer.connect();
      await producer.send({
        topic: invalidationTopic('secure'),
        acks: -1,
        messages: [{ key, value: Buffer.from(toBinary(InvalidationEventSchema, invalidation({ keys: [key] }))) }],
      });
      await producer.disconnect();
      await eventually('the key invalidated', async () => ((await redis.exists(key)) === 0 ? true : undefined), 30_000);
      // The password never reaches the log, not even at start-up.
      expect(output.join('')).not.toContain(secure.user.password);
    } finally {
      child.kill('SIGTERM');
      redis.disconnect();
    }
  });

  it('stops an invalidator without credentials with one line naming the SASL flags, not "Closed connection"', async () => {
    const { child, output } = invalidatorWith(['--kafka-ca', secure.file('ca.pem')]);
    try {
      // kafkajs retries its connects first (about half a minute with the invalidator's backoff).
      const code = await eventually('the invalidator to exit', async () => child.exitCode ?? undefined, 90_000);
      const said = output.join('');
      expect(code, said).toBe(2);
      expect(said).toMatch(
        /fabric-invalidator: the broker closed the connection at once, .*SASL \(--kafka-sasl, --kafka-username and --kafka-password-file/,
      );
      // An operator's mistake, not a bug: no stack trace.
      expect(said).not.toMatch(/\n\s+at /);
    } finally {
      child.kill('SIGTERM');
    }
  }, 150_000);
});
