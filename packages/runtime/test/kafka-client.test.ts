import { Writable } from 'node:stream';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createKafka, createProducer } from '../src/kafka-client.js';
import { kafkaLogCreator } from '../src/kafka-logger.js';

/** A pino logger whose lines are kept, to see what kafkajs said through it. */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const warnings = () => lines.filter((l) => l.level >= 40).map((l) => l.msg);
  return { logger: pino({ level: 'info' }, sink), warnings };
}

/** pino writes through the stream asynchronously; a turn of the event loop lets it land. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

// kafkajs warns about its partitioner once per process, at the first producer built without
// one: so the factory goes first, and the old construction after it shows the warning was
// still due (had something silenced it, the second half would fail).
describe('createProducer', () => {
  it('builds producers kafkajs has no warning about, where the old construction had two', async () => {
    delete process.env.KAFKAJS_NO_PARTITIONER_WARNING;
    const brokers = ['127.0.0.1:9'];

    const factory = capturingLogger();
    const kafka = createKafka({ clientId: 'test', brokers, logger: factory.logger, retry: { retries: 5 } });
    createProducer(kafka, { initialRetryTime: 200, maxRetryTime: 5_000 });
    createProducer(kafka, { maxRetries: 5, initialRetryTime: 200, maxRetryTime: 5_000 });
    await settled();
    expect(factory.warnings()).toEqual([]);

    // How the invalidator built its dead-letter producer: client retries, no partitioner.
    const old = capturingLogger();
    new Kafka({
      clientId: 'test',
      brokers,
      logCreator: kafkaLogCreator(old.logger),
      logLevel: logLevel.WARN,
      retry: { retries: 8 },
    }).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await settled();
    expect(old.warnings()).toEqual([
      expect.stringMatching(/^KafkaJS v2\.0\.0 switched default partitioner/),
      'Limiting retries for the idempotent producer may invalidate EoS guarantees',
    ]);

    // How the control plane built its producer: a partitioner, but idempotent with 5 retries.
    const bounded = capturingLogger();
    new Kafka({
      clientId: 'test',
      brokers,
      logCreator: kafkaLogCreator(bounded.logger),
      logLevel: logLevel.WARN,
    }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    await settled();
    expect(bounded.warnings()).toEqual(['Limiting retries for the idempotent producer may invalidate EoS guarantees']);
  });
});
