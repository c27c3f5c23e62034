import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventually, withDb } from '../support.js';
import { decodeEvent, type ReaderUnderTest, readerFor, readTopic } from './harness.js';

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

const answering = (status: number) => async () => {
  const answer = await healthz();
  return answer.status === status ? answer : undefined;
};

/**
 * The reader's /healthz says no when the reader cannot do its job. Kafka is made to refuse
 * the reader's writes on the reader's own topic only (min.insync.replicas above the single
 * broker's replica count, so every acks=all produce fails with NOT_ENOUGH_REPLICAS), which
 * leaves the shared brokers and every other test's topics alone.
 */
describe('cdc reader /healthz', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  const kafka = new Kafka({ brokers: home.kafka.brokers, logLevel: logLevel.NOTHING });
  let reader: ReaderUnderTest | undefined;

  const minInsyncReplicas = async (topic: string, value: string) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'min.insync.replicas', value }] },
        ],
      });
    } finally {
      await admin.disconnect();
    }
  };

  afterAll(async () => {
    await reader?.dispose();
  });

  it('answers 200 while streaming, 503 naming Kafka while Kafka refuses its writes, and 200 once they go through', async () => {
    reader = await readerFor(home, {
      name: 'health',
      extraArgs: ['--metrics-port', String(METRICS_PORT), '--health-grace-ms', '1000'],
    });
    await reader.start();
    const healthy = await eventually('/healthz 200 while streaming', answering(200));
    expect(healthy.body.ok).toBe(true);
    expect(healthy.body.detail).toBeUndefined();

    await minInsyncReplicas(reader.topic, '2');
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

    await minInsyncReplicas(reader.topic, '1');
    const recovered = await eventually('/healthz 200 once Kafka takes the batch', answering(200), 30_000);
    expect(recovered.body.ok).toBe(true);
    const events = await readTopic(home, reader.topic, decodeEvent, (es) =>
      es.some((e) => e.keys.includes(`user:${USER_ID}`)),
    );
    expect(events.some((e) => e.keys.includes(`user:${USER_ID}`))).toBe(true);
  });
});
