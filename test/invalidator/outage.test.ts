import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromBinary, InvalidationEventSchema } from '@fabric/proto';
import { pingRedis } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeDeadLetter, readTopic } from '../cdc/harness.js';
import { eventually } from '../support.js';
import { groupLag, type InvalidatorUnderTest, invalidation, invalidatorFor, producerFor } from './harness.js';

/**
 * A Redis of this file's own (port 28700), so stopping it touches no other test. It keeps
 * its data across the stop (SHUTDOWN SAVE, reloaded on start): a cold restart would empty
 * the cache and make "every key invalidated" trivially true.
 */
const PORT = 28700;
const EVENTS = 5_000;
const OUTAGE_MS = 30_000;

describe('a 30 s Redis outage while 5,000 events flow', () => {
  const region = inject('endpoints').regions[0]!;
  const dir = mkdtempSync(path.join(tmpdir(), 'fabric-outage-'));
  let server: ChildProcess | undefined;
  let redis: Redis;
  let inv: InvalidatorUnderTest;

  const startRedis = async () => {
    server = spawn(
      'redis-server',
      ['--port', String(PORT), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await eventually('redis up', async () => ((await pingRedis('127.0.0.1', PORT)) === 'PONG' ? true : undefined));
  };

  beforeAll(async () => {
    await startRedis();
    redis = new Redis({ port: PORT });
    redis.on('error', () => {});
    // Defaults for attempts and backoff: what an operator gets out of the box.
    inv = await invalidatorFor(region, { name: 'outage', redisUrl: `redis://127.0.0.1:${PORT}` });
    await inv.start();
  });
  afterAll(async () => {
    await inv?.dispose();
    redis?.disconnect();
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies every event after recovery or dead-letters it; none is lost', async () => {
    const keys = Array.from({ length: EVENTS }, (_, i) => `outage:user:${i}`);
    const fill = redis.pipeline();
    for (const k of keys) fill.hset(k, 'd', 'cached', 'v', '1');
    await fill.exec();
    expect(await redis.dbsize()).toBe(EVENTS);

    // Stop with the data saved, so the restart brings the (now stale) cache back.
    await redis.shutdown('SAVE').catch(() => undefined);
    await new Promise((resolve) => (server!.exitCode !== null ? resolve(null) : server!.once('exit', resolve)));
    const outageStarted = Date.now();

    const producer = await producerFor(region);
    const ids = new Map<string, string>();
    const perTick = 100;
    for (let i = 0; i < EVENTS; i += perTick) {
      const batch = keys.slice(i, i + perTick).map((k) => invalidation({ keys: [k] }));
      batch.forEach((e) => ids.set(e.id, e.keys[0]!));
      await producer.publish(inv.topic, batch);
      await sleep(Math.max(0, (OUTAGE_MS * (i + perTick)) / EVENTS - (Date.now() - outageStarted)));
    }
    await producer.disconnect();
    expect((await inv.health()).redis).toBe('down');
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
    await startRedis();
    const recovered = Date.now();
    expect(await redis.dbsize()).toBe(EVENTS);

    await eventually(
      'every event consumed and committed',
      async () => ((await groupLag(region, inv.groupId, inv.topic)) === 0 ? true : undefined),
      180_000,
    );
    const drained = Date.now();

    const admin = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const dlqSize = (await admin.fetchTopicOffsets(inv.dlqTopic)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    const letters =
      dlqSize === 0 ? [] : await readTopic(region, inv.dlqTopic, decodeDeadLetter, (items) => items.length >= dlqSize);
    const deadLettered = new Set(letters.map((l) => fromBinary(InvalidationEventSchema, l.original).id));
    for (const l of letters) expect(l.reason).toMatch(/^still failing after 8 attempts/);

    const remaining = new Set<string>();
    const check = redis.pipeline();
    for (const k of keys) check.exists(k);
    (await check.exec())!.forEach(([, n], i) => n === 1 && remaining.add(keys[i]!));
    const lost = [...ids].filter(([id, key]) => remaining.has(key) && !deadLettered.has(id));
    process.stderr.write(
      `[outage] ${EVENTS} events during ${OUTAGE_MS / 1000} s: ${EVENTS - remaining.size} keys invalidated, ${deadLettered.size} events dead-lettered, ` +
        `${remaining.size} keys still cached (all with their event in the DLQ: ${lost.length === 0}); drained ${((drained - recovered) / 1000).toFixed(1)} s after recovery\n`,
    );
    expect(lost).toEqual([]);
    // Both paths were taken: the outage outlasted the retries, and recovery applied the rest.
    expect(deadLettered.size).toBeGreaterThan(0);
    expect(remaining.size).toBeLessThan(EVENTS);
    const health = await inv.health();
    expect(health.redis).toBe('up');
    expect(health.deadLettered).toBe(deadLettered.size);
  }, 300_000);
});
