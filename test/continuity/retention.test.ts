import type { RegionEndpoints } from '@fabric/sandbox';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_RULES, readerFor } from '../cdc/harness.js';
import { invalidatorFor } from '../invalidator/harness.js';
import { eventually } from '../support.js';
import { CachedUsers, resyncFinished } from './scenario.js';

// An invalidator down for longer than its topic keeps records comes back to a committed
// offset below the log start. Kafka's consumer would reset to the earliest record without
// a word and every invalidation in between would be lost; the invalidator resyncs instead.

let home: RegionEndpoints;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  home = inject('endpoints').regions.find((r) => r.home)!;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function scenario(name: string, extraArgs: string[] = []) {
  const reader = await readerFor(home, { rules: DEMO_RULES, name, heartbeatMs: 0 });
  cleanups.push(() => reader.dispose());
  const invalidator = await invalidatorFor(home, {
    topic: reader.topic,
    name: `${name}_inv`,
    extraArgs: ['--commit-interval-ms', '0', ...extraArgs],
  });
  cleanups.push(() => invalidator.dispose());
  const users = new CachedUsers(home, home, 30);
  cleanups.push(() => users.dispose());
  await users.create();
  await reader.start();
  await invalidator.start();
  // Flowing, and offsets committed: one change, its entry deleted.
  const probe = users.ids[29]!;
  await users.fill([probe]);
  await users.update([probe], 'v1');
  await eventually('first invalidation applied', async () => ((await users.cachedCount()) === 0 ? true : undefined));

  await invalidator.stop();
  await users.fill();
  const changed = users.ids.slice(0, 20);
  await users.update(changed, 'v-lost');
  const kafka = new Kafka({ brokers: home.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // What retention does once its time has passed: the log start moves past records never read.
    await eventually('the changes reached the topic', async () => {
      const offsets = await admin.fetchTopicOffsets(reader.topic);
      const total = offsets.reduce((n, o) => n + Number(o.high), 0);
      return total >= 1 + changed.length ? true : undefined;
    });
    const offsets = await admin.fetchTopicOffsets(reader.topic);
    await admin.deleteTopicRecords({
      topic: reader.topic,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })),
    });
  } finally {
    await admin.disconnect();
  }
  expect((await users.stale()).length).toBe(changed.length);
  return { invalidator, users, changed };
}

describe('continuity through Kafka retention', () => {
  it('resyncs when the committed offset fell below the log start: zero stale entries', async () => {
    const { invalidator, users } = await scenario('ret');
    const started = Date.now();
    await invalidator.start();
    const resync = await resyncFinished(invalidator);
    expect(resync.reason).toBe('offset-out-of-range');
    expect(String(resync.detail)).toMatch(/retention passed/);
    expect(await users.stale()).toEqual([]);
    expect(await invalidator.metrics()).toMatch(/fabric_inval_resyncs_total\{reason="offset-out-of-range"[^}]*\} 1/);
    console.log(
      `retention gap: resync ${resync.resyncId} took ${((Date.now() - started) / 1000).toFixed(1)} s (start included), dropped ${resync.keysDropped} keys`,
    );
  });

  it('skips the expired invalidations with continuity off: the failure the check prevents', async () => {
    const { invalidator, users, changed } = await scenario('retoff', ['--continuity', 'off']);
    await invalidator.start();
    // It consumes on (a fresh change is applied), but the expired ones stay stale.
    const probe = users.ids[25]!;
    await users.fill([probe]);
    await users.update([probe], 'v2');
    await eventually('a fresh change applied', async () => ((await users.stale()).includes(probe) ? undefined : true));
    expect(await users.stale()).toEqual(changed);
  });
});
