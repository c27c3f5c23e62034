import { setTimeout as sleep } from 'node:timers/promises';
import { standbyApplicationName, standbySlotName } from '@fabric/contracts';
import { homeRegion, type RegionEndpoints, type SandboxEndpoints } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { ServiceUnhealthyError } from './errors.js';

/**
 * Healthy inside its network is not yet what the suites need: they connect from the host.
 * This waits, from the host and through the published ports, for what the sandbox promises
 * once it is ready: every broker answering with its region's topics, every Redis, and
 * every standby streaming from the primary through its slot and caught up with it.
 */
export async function waitFromHost(endpoints: SandboxEndpoints, timeoutMs = 60_000): Promise<void> {
  const home = homeRegion(endpoints);
  await Promise.all(
    endpoints.regions.map(async (region) => {
      await until(`${region.region} kafka from the host`, timeoutMs, () => topicsReady(region));
      await until(`${region.region} redis from the host`, timeoutMs, () => redisReady(region));
      if (!region.home && endpoints.replication === 'physical') {
        await until(`${region.region} standby streaming`, timeoutMs, () => standbyCaughtUp(region, home));
      }
    }),
  );
}

async function until(what: string, timeoutMs: number, probe: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not tried';
  while (Date.now() < deadline) {
    try {
      const notYet = await probe();
      if (notYet === undefined) return;
      last = notYet;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new ServiceUnhealthyError(what, `not ready after ${timeoutMs} ms (${last})`);
}

async function topicsReady(region: RegionEndpoints): Promise<string | undefined> {
  const admin = new Kafka({
    clientId: 'fabric-test-containers',
    brokers: region.kafka.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2_000,
  }).admin();
  await admin.connect();
  try {
    const topics = new Set(await admin.listTopics());
    const missing = [region.kafka.topic, region.kafka.deadLetterTopic].filter((t) => !topics.has(t));
    return missing.length > 0 ? `no topic ${missing.join(', ')}` : undefined;
  } finally {
    await admin.disconnect();
  }
}

async function redisReady(region: RegionEndpoints): Promise<string | undefined> {
  const redis = new Redis(region.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    const pong = await redis.ping();
    return pong === 'PONG' ? undefined : `PING answered ${pong}`;
  } finally {
    redis.disconnect();
  }
}

async function standbyCaughtUp(standby: RegionEndpoints, primary: RegionEndpoints): Promise<string | undefined> {
  const target = await query<{ lsn: string; active: boolean | null }>(
    primary,
    `select pg_current_wal_lsn()::text as lsn,
            (select active from pg_replication_slots where slot_name = $1) as active`,
    [standbySlotName(standby.region)],
  );
  if (!target.active) return `slot ${standbySlotName(standby.region)} at the primary not in use`;
  const state = await query<{ status: string | null; caught_up: boolean | null }>(
    standby,
    `select (select status from pg_stat_wal_receiver) as status,
            pg_last_wal_replay_lsn() >= $1::pg_lsn as caught_up`,
    [target.lsn],
  );
  if (state.status !== 'streaming') return `receiver ${state.status ?? 'not running'}`;
  if (!state.caught_up) return `replay behind the primary's ${target.lsn}`;
  const named = await query<{ n: number }>(
    primary,
    'select count(*)::int as n from pg_stat_replication where application_name = $1',
    [standbyApplicationName(standby.region)],
  );
  return named.n === 1 ? undefined : `no walsender for ${standbyApplicationName(standby.region)} at the primary`;
}

async function query<T>(region: RegionEndpoints, sql: string, params: unknown[]): Promise<T> {
  const client = new pg.Client({ connectionString: region.postgres.url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows[0] as T;
  } finally {
    await client.end();
  }
}
