import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pingRedis } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support.js';
import { groupLag, type InvalidatorUnderTest, invalidation, invalidatorFor, producerFor } from './harness.js';

/**
 * A Redis of this file's own (port 28700), so stopping it touches no other test. It keeps
 * its data across the stop (SHUTDOWN SAVE, reloaded on start): a cold restart would empty
 * the cache and make "every key invalidated" trivially true.
 *
 * The retry budget is cut to about a second (3 attempts, delays up to 500 ms), so an outage
 * of OUTAGE_MS outlasts it many times over: an invalidator that dead-letters at the end of
 * the budget shows it here, without a test of minutes.
 *
 * FABRIC_OUTAGE_MS lengthens the outage and FABRIC_OUTAGE_DEFAULT_RETRIES=1 runs the
 * invalidator with its own default --max-attempts/--retry-* flags, for the figure an operator
 * would see in production (e.g. 30 s down with the defaults); the assertions do not change.
 */
const PORT = 28700;
const EVENTS = 5_000;
const OUTAGE_MS = positiveEnv('FABRIC_OUTAGE_MS', 8_000);
const DEFAULT_RETRIES = process.env.FABRIC_OUTAGE_DEFAULT_RETRIES === '1';
const SHORT_BUDGET = ['--max-attempts', '3', '--retry-base-ms', '100', '--retry-cap-ms', '500'];
/** The invalidator's --max-attempts for the budget in use (8 is its default). */
const MAX_ATTEMPTS = DEFAULT_RETRIES ? 8 : 3;
const BUDGET = DEFAULT_RETRIES ? 'default retry flags' : 'retry budget ~1 s';

function positiveEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${name} must be a positive integer (ms), got ${raw}`);
  return value;
}

describe('a Redis outage far longer than the retry budget while 5,000 events flow', () => {
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
  const metric = async (name: string) => {
    const line = (await inv.metrics()).split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const dlqSize = async () => {
    const admin = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(inv.dlqTopic)).reduce((n, p) => n + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  };
  const stillCached = async (keys: string[]) => {
    const check = redis.pipeline();
    for (const k of keys) check.exists(k);
    return (await check.exec())!.filter(([, n]) => n === 1).length;
  };

  beforeAll(async () => {
    await startRedis();
    redis = new Redis({ port: PORT });
    redis.on('error', () => {});
    inv = await invalidatorFor(region, {
      name: 'outage',
      redisUrl: `redis://127.0.0.1:${PORT}`,
      extraArgs: DEFAULT_RETRIES ? [] : SHORT_BUDGET,
    });
    await inv.start();
  });
  afterAll(async () => {
    await inv?.dispose();
    redis?.disconnect();
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('blocks instead of dead-lettering: after recovery every event is applied, none is in the DLQ', async () => {
    const keys = Array.from({ length: EVENTS }, (_, i) => `outage:user:${i}`);
    const fill = redis.pipeline();
    for (const k of keys) fill.hset(k, 'd', 'cached', 'v', '1');
    await fill.exec();
    // Counted by name: the invalidator keeps records of its own here (freshness, watermarks).
    expect(await redis.exists(...keys)).toBe(EVENTS);

    // Stop with the data saved, so the restart brings the (now stale) cache back.
    await redis.shutdown('SAVE').catch(() => undefined);
    await new Promise((resolve) => (server!.exitCode !== null ? resolve(null) : server!.once('exit', resolve)));
    const outageStarted = Date.now();

    const producer = await producerFor(region);
    const perTick = 100;
    for (let i = 0; i < EVENTS; i += perTick) {
      await producer.publish(
        inv.topic,
        keys.slice(i, i + perTick).map((k) => invalidation({ keys: [k] })),
      );
      await sleep(Math.max(0, (OUTAGE_MS * (i + perTick)) / EVENTS - (Date.now() - outageStarted)));
    }
    await producer.disconnect();
    expect((await inv.health()).redis).toBe('down');
    await eventually('partitions blocked', async () =>
      ((await metric('fabric_inval_blocked_partitions')) ?? 0) > 0 ? true : undefined,
    );
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
    await startRedis();
    const recovered = Date.now();
    // Counted by name: the invalidator keeps records of its own here (freshness, watermarks).
    expect(await redis.exists(...keys)).toBe(EVENTS);

    await eventually(
      'every event consumed and committed',
      async () => ((await groupLag(region, inv.groupId, inv.topic)) === 0 ? true : undefined),
      180_000,
    );
    const drained = Date.now();
    const deadLettered = await dlqSize();
    const remaining = await stillCached(keys);
    process.stderr.write(
      `[outage] ${EVENTS} events during a ${OUTAGE_MS / 1000} s outage (${BUDGET}): ${EVENTS - remaining} keys invalidated, ` +
        `${deadLettered} dead-lettered, ${remaining} still cached; drained ${((drained - recovered) / 1000).toFixed(1)} s after recovery\n`,
    );
    expect(deadLettered).toBe(0);
    expect(remaining).toBe(0);
    expect(await metric('fabric_inval_blocked_partitions')).toBe(0);
    expect(await metric('fabric_inval_partition_blocks_total')).toBeGreaterThan(0);
    const health = await inv.health();
    expect(health.redis).toBe('up');
    expect(health.deadLettered).toBe(0);
  }, 300_000);

  it('blocks on a server-level refusal (NOPERM) until the ACL is fixed, dead-lettering nothing', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `outage:acl:${i}`);
    for (const k of keys) await redis.hset(k, 'd', 'cached');
    const retriedBefore = (await metric('fabric_inval_retries_total')) ?? 0;
    // The invalidator connects as the default user: take UNLINK away from it.
    await redis.acl('SETUSER', 'default', '-unlink');
    const producer = await producerFor(region);
    await producer.publish(
      inv.topic,
      keys.map((k) => invalidation({ keys: [k] })),
    );
    await producer.disconnect();
    await eventually('partition blocked on NOPERM', async () =>
      (await inv.metrics()).includes('fabric_inval_partition_blocks_total{reason="NOPERM"') ? true : undefined,
    );
    // Rounds of every event past --max-attempts: an exhausted event would be dead-lettered by now.
    await eventually(
      'retries past the old budget',
      async () =>
        ((await metric('fabric_inval_retries_total')) ?? 0) > retriedBefore + (MAX_ATTEMPTS + 2) * keys.length
          ? true
          : undefined,
      DEFAULT_RETRIES ? 90_000 : 20_000,
    );
    expect(await stillCached(keys)).toBe(keys.length);
    expect(await dlqSize()).toBe(0);

    await redis.acl('SETUSER', 'default', '+@all');
    await eventually('every key invalidated once the ACL allows UNLINK again', async () =>
      (await stillCached(keys)) === 0 ? true : undefined,
    );
    await eventually('offsets committed', async () =>
      (await groupLag(region, inv.groupId, inv.topic)) === 0 ? true : undefined,
    );
    expect(await dlqSize()).toBe(0);
    expect(await metric('fabric_inval_blocked_partitions')).toBe(0);
  }, 120_000);
});
