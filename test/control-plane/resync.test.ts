import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ComponentStatus, ContinuityState, RegionStatus } from '@fabric/control-plane';
import { fromBinary, InvalidationEventSchema, Operation, timestampMs } from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  codeOf,
  createTopics,
  type RunningControlPlane,
  readRecords,
  startTestControlPlane,
  type TestTopics,
  TOKENS,
  testConfig,
  topicEnds,
} from './harness.js';

const PORT = 31011;
const STARTED = '2024-05-01T12:00:00.000Z';

describe('ContinuityService.Resync, and continuity in the lag report', () => {
  const endpoints = inject('endpoints');
  const euWest = endpoints.regions.find((r) => r.region === 'eu-west')!;
  const usEast = endpoints.regions.find((r) => r.region === 'us-east')!;
  let topics: Map<string, TestTopics>;
  let cp: RunningControlPlane;
  let invalidatorStatus: http.Server;

  beforeAll(async () => {
    topics = await createTopics(endpoints.regions, 'resync');
    // ap-south points at a topic nobody created: a resync there cannot find its partitions.
    const apSouth = topics.get('ap-south')!;
    topics.set('ap-south', { ...apSouth, topic: `${apSouth.topic}.missing` });
    // eu-west's invalidator reports a resync under way; the other regions' do not answer.
    invalidatorStatus = http.createServer((_req, res) => {
      const body = {
        ok: true,
        component: 'invalidator',
        region: 'eu-west',
        redis: 'up',
        lastAppliedCommitTime: new Date().toISOString(),
        latencyMs: { p50: 10, p99: 20, count: 5 },
        continuity: {
          state: 'resyncing',
          resyncId: 'eu-west:resync:operator:1714564800000',
          reason: 'operator',
          detail: 'asked by ops: restored from backup',
          startedAt: STARTED,
          keysDropped: 42,
        },
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => invalidatorStatus.listen(0, '127.0.0.1', resolve));
    const statusUrls = new Map([
      ['eu-west', { invalidator: `http://127.0.0.1:${(invalidatorStatus.address() as AddressInfo).port}/healthz` }],
    ]);
    cp = await startTestControlPlane(await testConfig({ port: PORT, topics, statusUrls }));
  });
  afterAll(async () => {
    await cp?.stop();
    if (invalidatorStatus?.listening) await new Promise((resolve) => invalidatorStatus.close(resolve));
  });

  it('publishes one RESYNC copy per partition of the region topic, with reason operator and who asked', async () => {
    const topic = topics.get('eu-west')!.topic;
    const before = Date.now();
    const response = await cp
      .client(TOKENS.admin)
      .continuity.resync({ region: 'eu-west', reason: 'restored from backup' });
    expect(response).toMatchObject({ region: 'eu-west', topic, copies: 3 });
    expect(response.resyncId).toMatch(/^eu-west:resync:operator:\d+$/);

    const records = await readRecords(euWest, topic, 3);
    expect(records.map((r) => [r.partition, r.key])).toEqual([
      [0, 'resync'],
      [1, 'resync'],
      [2, 'resync'],
    ]);
    for (const r of records) {
      const e = fromBinary(InvalidationEventSchema, r.value);
      expect(e).toMatchObject({
        id: response.resyncId,
        region: 'eu-west',
        operation: Operation.RESYNC,
        // Empty: the invalidator applies the recovery action the region's reader recorded.
        keys: [],
        tags: [],
        versions: [],
        patterns: [],
        resync: {
          id: response.resyncId,
          reason: 'operator',
          detail: 'asked by test-admin: restored from backup',
          copies: 3,
        },
      });
      expect(timestampMs(e.resync!.detectedTime!)).toBeGreaterThanOrEqual(before);
    }
    // Only the chosen region.
    expect(await topicEnds(usEast, topics.get('us-east')!.topic)).toEqual([0n, 0n, 0n]);
  });

  it('says so in the detail when no reason is given', async () => {
    const topic = topics.get('us-east')!.topic;
    const response = await cp.client(TOKENS.admin).continuity.resync({ region: 'us-east' });
    const records = await readRecords(usEast, topic, 3);
    expect(records.map((r) => fromBinary(InvalidationEventSchema, r.value).resync?.detail)).toEqual(
      Array(3).fill('asked by test-admin: no reason given'),
    );
    expect(records.every((r) => fromBinary(InvalidationEventSchema, r.value).id === response.resyncId)).toBe(true);
  });

  it('refuses a bad region or reason, naming the field, and publishes nothing', async () => {
    const admin = cp.client(TOKENS.admin);
    const ends = await topicEnds(euWest, topics.get('eu-west')!.topic);
    expect(await codeOf(admin.continuity.resync({ region: '' }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'region: name the region to resync',
    });
    expect(await codeOf(admin.continuity.resync({ region: 'mars' }))).toEqual({
      code: status.NOT_FOUND,
      details: 'region: unknown region "mars" (known: us-east, eu-west, ap-south)',
    });
    expect(await codeOf(admin.continuity.resync({ region: 'eu-west', reason: 'x'.repeat(501) }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'reason: at most 500 characters, got 501',
    });
    expect(await codeOf(cp.client(TOKENS.read).continuity.resync({ region: 'eu-west' }))).toMatchObject({
      code: status.PERMISSION_DENIED,
      details: expect.stringContaining('"admin" scope'),
    });
    expect(await topicEnds(euWest, topics.get('eu-west')!.topic)).toEqual(ends);
  });

  it('answers FAILED_PRECONDITION when the region topic does not exist', async () => {
    expect(await codeOf(cp.client(TOKENS.admin).continuity.resync({ region: 'ap-south' }))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: `ap-south: topic ${topics.get('ap-south')!.topic} does not exist`,
    });
  });

  it('reports a running resync as DEGRADED continuity, and unknown continuity as unset', async () => {
    const { regions } = await cp.client(TOKENS.read).lag.getLag({});
    const west = regions.find((r) => r.region === 'eu-west')!;
    expect(west.continuity).toMatchObject({
      state: ContinuityState.RESYNCING,
      resyncId: 'eu-west:resync:operator:1714564800000',
      reason: 'operator',
      detail: 'asked by ops: restored from backup',
      keysDropped: 42n,
    });
    expect(timestampMs(west.continuity!.startedTime!)).toBe(Date.parse(STARTED));
    expect(west.continuity!.finishedTime).toBeUndefined();
    expect(west.status).toBe(RegionStatus.DEGRADED);
    expect(west.components.find((c) => c.component === 'continuity')).toMatchObject({
      status: ComponentStatus.UNHEALTHY,
      detail: `resyncing since ${STARTED}: operator`,
    });
    const east = regions.find((r) => r.region === 'us-east')!;
    expect(east.continuity).toBeUndefined();
    expect(east.components.some((c) => c.component === 'continuity')).toBe(false);
  });
});
