import { fromBinary, InvalidationEventSchema, Operation, timestampMs } from '@fabric/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createTopics,
  type RunningControlPlane,
  readRecords,
  startTestControlPlane,
  type TestTopics,
  TOKENS,
  testConfig,
  topicEnds,
} from './harness.js';

const PORT = 31001;

describe('Invalidate', () => {
  const endpoints = inject('endpoints');
  const [usEast, euWest, apSouth] = endpoints.regions;
  let topics: Map<string, TestTopics>;
  let cp: RunningControlPlane;

  beforeAll(async () => {
    topics = await createTopics(endpoints.regions, 'inval');
    cp = await startTestControlPlane(await testConfig({ port: PORT, topics }));
  });
  afterAll(() => cp?.stop());

  it('publishes ordered MANUAL events to each chosen region topic, and only there', async () => {
    const admin = cp.client(TOKENS.admin);
    const keys = ['user:1', 'user:2', 'product:sku:a-1', 'team:3', 'user:4'];
    const before = Date.now();
    const first = await admin.invalidation.invalidate({
      regions: ['us-east', 'eu-west'],
      keys,
      tags: ['team:3:members'],
      patterns: ['session:user:1:*'],
    });
    const second = await admin.invalidation.invalidate({ regions: ['eu-west'], keys });
    const after = Date.now();

    expect(first.regions.map((r) => [r.region, r.topic, r.eventIds.length])).toEqual([
      ['us-east', topics.get('us-east')!.topic, 7],
      ['eu-west', topics.get('eu-west')!.topic, 7],
    ]);
    expect(first.regions[0]!.eventIds).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => `manual:${first.requestId}:${n}`));
    expect(first.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const east = await readRecords(usEast!, topics.get('us-east')!.topic, 7);
    const west = await readRecords(euWest!, topics.get('eu-west')!.topic, 12);
    for (const [region, records] of [
      ['us-east', east],
      ['eu-west', west],
    ] as const) {
      for (const r of records) {
        const e = fromBinary(InvalidationEventSchema, r.value);
        expect(e.operation).toBe(Operation.MANUAL);
        expect(e.region).toBe(region);
        // Keyed by the target, so it shares a partition with that key's other events.
        expect([...e.keys, ...e.tags, ...e.patterns]).toEqual([r.key]);
        expect(timestampMs(e.primaryCommitTime!)).toBe(timestampMs(e.emittedTime!));
        expect(timestampMs(e.primaryCommitTime!)).toBeGreaterThanOrEqual(before);
        expect(timestampMs(e.primaryCommitTime!)).toBeLessThanOrEqual(after);
      }
    }
    const decoded = west.map((r) => ({ ...r, event: fromBinary(InvalidationEventSchema, r.value) }));
    expect(decoded.find((d) => d.key === 'team:3:members')?.event.tags).toEqual(['team:3:members']);
    expect(decoded.find((d) => d.key === 'session:user:1:*')?.event.patterns).toEqual(['session:user:1:*']);
    // Ordered per key: the first request's event for a key precedes the second's, on one partition.
    for (const key of keys) {
      const forKey = decoded.filter((d) => d.key === key);
      expect(new Set(forKey.map((d) => d.partition)).size).toBe(1);
      expect(forKey.map((d) => d.event.id.split(':')[1])).toEqual([first.requestId, second.requestId]);
    }
    // ap-south was not chosen: its topic stays empty.
    expect(await topicEnds(apSouth!, topics.get('ap-south')!.topic)).toEqual([0n, 0n, 0n]);
  });

  it('publishes a whole-cache pattern when forced', async () => {
    const admin = cp.client(TOKENS.admin);
    const forced = await admin.invalidation.invalidate({ regions: ['ap-south'], patterns: ['*'], force: true });
    const [record] = await readRecords(apSouth!, topics.get('ap-south')!.topic, 1);
    expect(fromBinary(InvalidationEventSchema, record!.value)).toMatchObject({
      id: `manual:${forced.requestId}:0`,
      patterns: ['*'],
      operation: Operation.MANUAL,
    });
  });
});
