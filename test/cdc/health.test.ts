import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventually, withDb } from '../support.js';
import { decodeDeadLetter, decodeEvent, type ReaderUnderTest, readerFor, readTopic } from './harness.js';

const METRICS_PORT = 27991;
const USER_ID = 9601;

interface Answer {
  status: number;
  body: { ok?: boolean; detail?: string; pending?: number; confirmedLsn?: string };
}

async function healthz(): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${METRICS_PORT}/healthz`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

/** For `eventually`: the answer once it has `status`; until then the last answer is the error. */
const answering = (status: number) => async () => {
  const answer = await healthz();
  if (answer.status !== status) throw new Error(`HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer;
};

/**
 * The reader's /healthz says no when the reader cannot do its job. Kafka is made to refuse
 * the reader's writes on the reader's own topics only (max.message.bytes below any record on
 * its topic and its DLQ, so the event and then the dead letter standing in for it fail with
 * MESSAGE_TOO_LARGE until it is raised again), which leaves the
 * shared brokers and every other test's topics alone. (min.insync.replicas cannot do this on
 * a single broker: Kafka caps it at the replication factor.)
 */
describe('cdc reader /healthz', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  const kafka = new Kafka({ brokers: home.kafka.brokers, logLevel: logLevel.NOTHING });
  let reader: ReaderUnderTest | undefined;

  /** Sets the topic's max.message.bytes and returns what the broker then reports. */
  const maxMessageBytes = async (topic: string, value: string) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value }] },
        ],
      });
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
      });
      return described.resources[0]?.configEntries[0]?.configValue;
    } finally {
      await admin.disconnect();
    }
  };

  /** The reader's own log, so a failure carries what the reader saw. */
  const readerLog = (r: ReaderUnderTest) =>
    readFileSync(
      path.join(endpoints.stateDir, r.region.region, 'logs', `reader-${r.slot.slice('test_'.length)}.log`),
      'utf8',
    )
      .split('\n')
      .filter((line) => !line.includes('"level":20'))
      .slice(-40)
      .join('\n');

  afterAll(async () => {
    await reader?.dispose();
  });

  it('answers 200 while streaming, 503 naming Kafka while Kafka refuses its writes, and 200 once they go through', async () => {
    reader = await readerFor(home, {
      name: 'health',
      extraArgs: ['--metrics-port', String(METRICS_PORT), '--health-grace-ms', '1000'],
    });
    await reader.start();
    try {
      await refuseAndRecover(reader);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- reader log (tail) ---\n${readerLog(reader)}`, { cause: err });
    }
  });

  async function refuseAndRecover(underTest: ReaderUnderTest): Promise<void> {
    const healthy = await eventually('/healthz 200 while streaming', answering(200));
    expect(healthy.body.ok).toBe(true);
    expect(healthy.body.detail).toBeUndefined();

    // The event is refused for its size and replaced by its dead letter; that is refused too,
    // so the reader retries it (a topic set below any record is not bad data) and says so.
    for (const topic of [underTest.topic, underTest.dlqTopic]) expect(await maxMessageBytes(topic, '16')).toBe('16');
    await withDb(home, (db) =>
      db.query(
        `insert into users (id, team_id, name, email) values ($1, 1, 'health probe', 'health@example')
         on conflict (id) do update set name = excluded.name || ' again'`,
        [USER_ID],
      ),
    );
    const refused = await eventually('/healthz 503 while Kafka refuses the batch', answering(503), 30_000);
    expect(refused.body.ok).toBe(false);
    expect(refused.body.detail).toMatch(/^kafka has not acknowledged a batch for \d+ s \(/);
    // The numbers stay in the answer, so a poller still sees how far the reader got.
    expect(refused.body.pending).toBeGreaterThan(0);

    for (const topic of [underTest.topic, underTest.dlqTopic])
      expect(await maxMessageBytes(topic, '1048588')).toBe('1048588');
    const recovered = await eventually('/healthz 200 once Kafka takes the batch', answering(200), 30_000);
    expect(recovered.body.ok).toBe(true);
    // Nothing lost: the refused event is in the DLQ with its original, for a replay.
    const carries = (l: ReturnType<typeof decodeDeadLetter>) =>
      l.original.length > 0 && decodeEvent(Buffer.from(l.original)).keys.includes(`user:${USER_ID}`);
    const letters = await readTopic(home, underTest.dlqTopic, decodeDeadLetter, (ls) => ls.some(carries));
    expect(letters.find(carries)!.reason).toMatch(/MESSAGE_TOO_LARGE/);
  }
});
