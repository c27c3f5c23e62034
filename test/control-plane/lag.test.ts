import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ComponentStatus,
  type GetLagResponse,
  type RegionLag,
  RegionStatus,
  timestampDate,
} from '@fabric/control-plane';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, withDb } from '../support.js';
import {
  closedPort,
  createTopics,
  type RunningControlPlane,
  startTestControlPlane,
  type TestTopics,
  TOKENS,
  testConfig,
} from './harness.js';

const PORT = 31002;

const component = (r: RegionLag | undefined, name: string) => r?.components.find((c) => c.component === name);
const region = (res: GetLagResponse, name: string) => res.regions.find((r) => r.region === name)!;

describe('LagService against the sandbox', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  let topics: Map<string, TestTopics>;
  let cp: RunningControlPlane;
  let invalidatorStatus: http.Server;

  beforeAll(async () => {
    topics = await createTopics(endpoints.regions, 'lag');
    // eu-west's invalidator answers per the worker status contract; the others are down.
    invalidatorStatus = http.createServer((_req, res) => {
      const body = {
        ok: true,
        component: 'invalidator',
        region: 'eu-west',
        redis: 'up',
        lastAppliedCommitTime: new Date(Date.now() - 2_000).toISOString(),
        freshnessSeconds: 2,
        latencyMs: { p50: 14, p99: 95, count: 40 },
        applied: 40,
        deadLettered: 0,
        retries: 0,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => invalidatorStatus.listen(0, '127.0.0.1', resolve));
    const statusUrls = new Map([
      ['eu-west', { invalidator: `http://127.0.0.1:${(invalidatorStatus.address() as AddressInfo).port}/healthz` }],
    ]);
    const [pg, kafka] = [await closedPort(), await closedPort()];
    const mars = {
      name: 'mars',
      postgresUrl: `postgres://postgres@127.0.0.1:${pg}/fabric`,
      kafkaBrokers: [`127.0.0.1:${kafka}`],
      readerStatusUrl: `http://127.0.0.1:${await closedPort()}/healthz`,
      invalidatorStatusUrl: `http://127.0.0.1:${await closedPort()}/healthz`,
    };
    cp = await startTestControlPlane(await testConfig({ port: PORT, topics, statusUrls, extraRegions: [mars] }));
  });
  afterAll(async () => {
    await cp?.stop();
    if (invalidatorStatus.listening) await new Promise((resolve) => invalidatorStatus.close(resolve));
  });

  it('reports a silent worker as unreachable with its numbers unset, never 0', async () => {
    const lag = region(await cp.client(TOKENS.read).lag.getLag({ region: 'ap-south' }), 'ap-south');
    expect(component(lag, 'invalidator')).toMatchObject({
      status: ComponentStatus.UNREACHABLE,
      detail: expect.stringContaining('ECONNREFUSED'),
    });
    expect(component(lag, 'invalidator')?.lastSeenTime).toBeUndefined();
    expect(component(lag, 'cdc-reader')?.status).toBe(ComponentStatus.UNREACHABLE);
    expect(lag.freshnessSeconds).toBeUndefined();
    expect(lag.latencyP50Ms).toBeUndefined();
    expect(lag.latencyP99Ms).toBeUndefined();
    expect(lag.lastAppliedCommitTime).toBeUndefined();
    expect(lag.cdcIdleSeconds).toBeUndefined();
    expect(lag.status).toBe(RegionStatus.DEGRADED);
    // What PostgreSQL and Kafka answered is still reported.
    expect(component(lag, 'postgres')).toMatchObject({ status: ComponentStatus.HEALTHY, detail: '' });
    expect(component(lag, 'kafka')).toMatchObject({ status: ComponentStatus.HEALTHY, detail: '' });
    expect(lag.kafkaLag.map((p) => [p.partition, p.endOffset])).toEqual([
      [0, 0n],
      [1, 0n],
      [2, 0n],
    ]);
    expect(lag.kafkaLagTotal).toBe(0n);
    expect(lag.deadLetters).toBe(0n);
    expect(lag.replicationLagBytes).toBeGreaterThanOrEqual(0n);
  });

  it('reports a region where nothing answers as UNREACHABLE, not as 0', async () => {
    const started = Date.now();
    const lag = region(await cp.client(TOKENS.read).lag.getLag({ region: 'mars' }), 'mars');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(lag.status).toBe(RegionStatus.UNREACHABLE);
    for (const name of ['postgres', 'kafka', 'cdc-reader', 'invalidator'])
      expect(component(lag, name)?.status).toBe(ComponentStatus.UNREACHABLE);
    expect(component(lag, 'replication')).toMatchObject({
      status: ComponentStatus.UNHEALTHY,
      detail: expect.stringContaining(
        inject('endpoints').replication === 'physical' ? 'no slot fabric_standby_mars' : 'no slot fabric_sub_mars',
      ),
    });
    for (const unknown of [
      'replicationLagBytes',
      'replicationLagSeconds',
      'cdcLagBytes',
      'cdcIdleSeconds',
      'kafkaLagTotal',
      'freshnessSeconds',
      'latencyP50Ms',
      'deadLetters',
    ] as const) {
      expect(lag[unknown], unknown).toBeUndefined();
    }
    expect(lag.kafkaLag).toEqual([]);
  });

  it('takes freshness and latency from an answering invalidator, then keeps its last-seen time when it stops answering', async () => {
    const client = cp.client(TOKENS.read);
    const before = region(await client.lag.getLag({ region: 'eu-west' }), 'eu-west');
    expect(component(before, 'invalidator')?.status).toBe(ComponentStatus.HEALTHY);
    expect(before.freshnessSeconds).toBeGreaterThanOrEqual(2);
    expect(before.freshnessSeconds).toBeLessThan(10);
    expect([before.latencyP50Ms, before.latencyP99Ms]).toEqual([14, 95]);
    const seen = timestampDate(component(before, 'invalidator')!.lastSeenTime!);

    await new Promise((resolve) => invalidatorStatus.close(resolve));
    // Callers share a probe round for 200 ms: the next round finds the worker gone.
    const after = await eventually('a probe round after the worker went away', async () => {
      const lag = region(await client.lag.getLag({ region: 'eu-west' }), 'eu-west');
      return component(lag, 'invalidator')?.status === ComponentStatus.UNREACHABLE ? lag : undefined;
    });
    expect(timestampDate(component(after, 'invalidator')!.lastSeenTime!)).toEqual(seen);
    expect(after.freshnessSeconds).toBeUndefined();
    expect(after.latencyP99Ms).toBeUndefined();
  });

  it('measures replication lag from the heartbeat the primary writes and the replicas apply', async () => {
    const client = cp.client(TOKENS.read);
    const replicas = endpoints.regions.filter((x) => !x.home);
    // Callers share a probe round for 200 ms, so an answer can predate a write. Without a
    // heartbeat row nobody can report replication seconds: once every region answers that
    // way, every later answer comes from a newer round, and one that has a beat again was
    // probed after the beat below.
    await withDb(home, (db) => db.query('delete from fabric.heartbeat where id = 1'));
    await eventually('every region answers from a round without a heartbeat', async () => {
      const answer = await client.lag.getLag({});
      return /^no \S*heartbeat row at the primary$/.test(
        component(region(answer, home.region), 'heartbeat')?.detail ?? '',
      ) && replicas.every((r) => region(answer, r.region).replicationLagSeconds === undefined)
        ? true
        : undefined;
    });

    const { beat, beatLsn } = await withDb(home, async (db) => {
      const { rows } = await db.query<{ beat_at: Date }>(
        `insert into fabric.heartbeat (id, beat_at, seq) values (1, now(), 1)
         on conflict (id) do update set beat_at = now(), seq = fabric.heartbeat.seq + 1 returning beat_at`,
      );
      // The WAL position right after the beat's commit: a replica's slot has caught up once it confirmed this.
      const { rows: at } = await db.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
      return { beat: rows[0]!.beat_at, beatLsn: at[0]!.lsn };
    });
    for (const r of replicas) {
      await eventually(`${r.region} applied the heartbeat`, () =>
        withDb(r, async (db) =>
          (
            await db.query<{ beat_at: Date }>('select beat_at from fabric.heartbeat where id = 1')
          ).rows[0]?.beat_at.getTime() === beat.getTime()
            ? true
            : undefined,
        ),
      );
    }
    // Caught up: the slot's lag (WAL head minus confirmed) is at most the WAL written since the
    // beat, i.e. the slot confirmed the beat.
    const res = await eventually('every replica slot confirmed the beat, seen by a round after it', async () => {
      const answer = await client.lag.getLag({});
      const sinceBeat = await withDb(home, async (db) =>
        BigInt(
          (
            await db.query<{ n: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::bigint::text as n', [
              beatLsn,
            ])
          ).rows[0]!.n,
        ),
      );
      const afterBeat =
        component(region(answer, home.region), 'heartbeat')?.status === ComponentStatus.HEALTHY &&
        replicas.every((r) => region(answer, r.region).replicationLagSeconds !== undefined);
      const caughtUp = replicas.every((r) => {
        const bytes = region(answer, r.region).replicationLagBytes;
        return bytes !== undefined && bytes <= sinceBeat;
      });
      return afterBeat && caughtUp ? answer : undefined;
    });
    expect(region(res, home.region)).toMatchObject({ replicationLagBytes: 0n, replicationLagSeconds: 0 });
    expect(component(region(res, home.region), 'heartbeat')).toMatchObject({
      status: ComponentStatus.HEALTHY,
      detail: '',
    });
    for (const r of replicas) {
      const lag = region(res, r.region);
      // Both sides hold the same beat now: no lag in seconds (and the slot caught up, above).
      expect(lag.replicationLagSeconds).toBe(0);
      expect(component(lag, 'replication')?.status).toBe(ComponentStatus.HEALTHY);
    }
  });

  it('computes Kafka lag per partition from the invalidator group commits', async () => {
    const west = endpoints.regions.find((r) => r.region === 'eu-west')!;
    const topic = topics.get('eu-west')!.topic;
    const kafka = new Kafka({ brokers: west.kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [0, 0, 0, 0, 1].map((partition, i) => ({ partition, value: `event ${i}` })),
    });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    // As if the invalidator had applied two events of partition 0 and committed.
    await admin.setOffsets({
      groupId: topics.get('eu-west')!.consumerGroup,
      topic,
      partitions: [{ partition: 0, offset: '2' }],
    });
    await admin.disconnect();
    // The commit is seen by the first probe round after it (rounds are shared for 200 ms).
    const lag = await eventually('a probe round that sees the commit', async () => {
      const answer = region(await cp.client(TOKENS.read).lag.getLag({ region: 'eu-west' }), 'eu-west');
      return answer.kafkaLag[0]?.committedOffset === 2n ? answer : undefined;
    });
    expect(component(lag, 'kafka')).toMatchObject({ status: ComponentStatus.HEALTHY, detail: '' });
    expect(lag.kafkaLag.map((p) => [p.partition, p.endOffset, p.committedOffset, p.lag])).toEqual([
      [0, 4n, 2n, 2n],
      [1, 1n, undefined, 1n],
      [2, 0n, undefined, 0n],
    ]);
    expect(lag.kafkaLagTotal).toBe(3n);
  });

  it('streams snapshots with WatchLag until the client cancels', async () => {
    const stop = new AbortController();
    const times: number[] = [];
    const started = Date.now();
    for await (const snapshot of cp
      .client(TOKENS.read)
      .lag.watchLag({ region: 'us-east', intervalMs: 300 }, { signal: stop.signal })) {
      expect(snapshot.regions.map((r) => r.region)).toEqual(['us-east']);
      times.push(timestampDate(snapshot.observedTime!).getTime());
      if (times.length === 3) break;
    }
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(500);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
