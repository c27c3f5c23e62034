import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { create, InvalidationEventSchema, Operation, timestampFromMs, toBinary } from '@fabric/proto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type InvalidatorUnderTest, invalidatorFor } from '../invalidator/harness.js';
import { eventually, withDb } from '../support.js';
import { type RunningControlPlane, startTestControlPlane, TOKENS, testConfig } from './harness.js';

/** This file's own ports (its range is 23800-23999). */
const PORTS = { controlPlane: 23810, invalidator: 23811 };
const CLI = path.resolve('packages/cli/dist/bin.js');
const SLOT = 'fabric_test_lag_health';
const FRESHNESS_THRESHOLD = 3;

function fabric(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { FABRIC_CONTROL_PLANE: _a, FABRIC_TOKEN: _b, FABRIC_STATE_DIR: _c, ...env } = process.env;
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe('fabric lag judges freshness against the control plane threshold', () => {
  const home = inject('endpoints').regions.find((r) => r.home)!;
  let inv: InvalidatorUnderTest;
  let cp: RunningControlPlane;
  let reader: http.Server;
  let producer: Producer;
  let beating = true;
  let timer: NodeJS.Timeout;

  beforeAll(async () => {
    // The home region, everything answering: its slot, the primary's heartbeat row, a real
    // invalidator on a topic of this test's own, and a reader that says it streams.
    await withDb(home, (db) =>
      db.query(
        `select pg_create_logical_replication_slot($1, 'pgoutput')
          where not exists (select 1 from pg_replication_slots where slot_name = $1)`,
        [SLOT],
      ),
    );
    inv = await invalidatorFor(home, { name: 'lag-health', metricsPort: PORTS.invalidator });
    await inv.start();
    producer = new Kafka({ brokers: home.kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    // What the home reader and the primary's heartbeat do while the application is idle.
    timer = setInterval(() => {
      void withDb(home, (db) =>
        db.query(
          `insert into fabric.heartbeat (id, beat_at, seq) values (1, now(), 1)
           on conflict (id) do update set beat_at = now(), seq = fabric.heartbeat.seq + 1`,
        ),
      ).catch(() => undefined);
      if (!beating) return;
      const value = (n: number) =>
        Buffer.from(
          toBinary(
            InvalidationEventSchema,
            create(InvalidationEventSchema, {
              id: `lag-health:${Date.now()}:${n}`,
              region: home.region,
              operation: Operation.HEARTBEAT,
              primaryCommitTime: timestampFromMs(Date.now()),
            }),
          ),
        );
      void producer
        .send({
          topic: inv.topic,
          acks: -1,
          messages: [0, 1, 2].map((partition) => ({ partition, value: value(partition) })),
        })
        .catch(() => undefined);
    }, 500);
    reader = http.createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: true, pending: 0, lastEventAt: new Date().toISOString() })),
    );
    await new Promise<void>((resolve) => reader.listen(0, '127.0.0.1', resolve));
    const config = await testConfig({
      port: PORTS.controlPlane,
      topics: new Map([
        [
          home.region,
          {
            topic: inv.topic,
            deadLetterTopic: inv.dlqTopic,
            consumerGroup: inv.groupId,
            cdcSlot: SLOT,
          } as unknown as { topic: string; deadLetterTopic: string; consumerGroup: string },
        ],
      ]),
      statusUrls: new Map([
        [
          home.region,
          {
            reader: `http://127.0.0.1:${(reader.address() as AddressInfo).port}/healthz`,
            invalidator: `http://127.0.0.1:${inv.metricsPort}/healthz`,
          },
        ],
      ]),
      health: { freshnessSeconds: FRESHNESS_THRESHOLD },
    });
    cp = await startTestControlPlane(config);
  }, 90_000);
  afterAll(async () => {
    clearInterval(timer);
    await cp?.stop();
    await inv?.dispose();
    await producer?.disconnect();
    if (reader?.listening) await new Promise((resolve) => reader.close(resolve));
    await withDb(home, (db) =>
      db.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1', [SLOT]),
    );
  });

  const lag = () => fabric(['lag', '--server', cp.address, '--token', TOKENS.read, '--region', home.region, '--json']);

  it('exits 0 while fresh, then non-zero naming the freshness crossed once the region falls behind', async () => {
    const healthy = await eventually(
      'the region healthy while it beats',
      async () => {
        const run = await lag();
        return run.code === 0 ? run : undefined;
      },
      30_000,
    );
    expect(JSON.parse(healthy.stdout).regions[0].status).toBe('REGION_STATUS_HEALTHY');

    // The stream stops (a partition between regions, a replica stuck): every component still
    // answers healthy, but nothing newer is applied.
    beating = false;
    const behind = await eventually(
      'fabric lag failing on freshness',
      async () => {
        const run = await lag();
        return run.code !== 0 ? run : undefined;
      },
      30_000,
    );
    expect(behind.code).toBe(1);
    const region = JSON.parse(behind.stdout).regions[0] as {
      status: string;
      reasons: string[];
      components: Array<{ status: string }>;
    };
    expect(region.status).toBe('REGION_STATUS_UNHEALTHY');
    expect(region.reasons).toEqual([
      expect.stringMatching(new RegExp(`^freshness \\d+ s > ${FRESHNESS_THRESHOLD} s$`)),
    ]);
    expect(region.components.every((c) => c.status === 'COMPONENT_STATUS_HEALTHY')).toBe(true);

    const table = await fabric(['lag', '--server', cp.address, '--token', TOKENS.read, '--region', home.region]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/UNHEALTHY/);
    expect(table.stdout).toMatch(new RegExp(`freshness \\d+ s > ${FRESHNESS_THRESHOLD} s`));
  }, 90_000);
});
