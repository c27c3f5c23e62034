import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import path from 'node:path';
import {
  type DeadLetter,
  DeadLetterSchema,
  fromBinary,
  type InvalidationEvent,
  InvalidationEventSchema,
  Operation,
} from '@fabric/proto';
import type { RegionEndpoints } from '@fabric/sandbox';
import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';
import { eventually, withDb } from '../support.js';

const READER = path.resolve('packages/cdc-reader/dist/main.js');
export const DEMO_RULES = path.resolve('deploy/key-rules.demo.yaml');

/**
 * A reader of its own for one test: own slot, publication and topics, so tests do not see
 * each other's events even though they share the sandbox's databases and brokers.
 */
export interface ReaderUnderTest {
  region: RegionEndpoints;
  slot: string;
  topic: string;
  dlqTopic: string;
  start(): Promise<void>;
  /** null while the process runs (or before it started). */
  exitCode(): number | null;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<number | null>;
  dispose(): Promise<void>;
}

export async function readerFor(
  region: RegionEndpoints,
  opts: { rules?: string; home?: boolean; heartbeatMs?: number; name?: string; extraArgs?: string[] } = {},
): Promise<ReaderUnderTest> {
  const id = `${opts.name ?? 't'}_${randomBytes(3).toString('hex')}`;
  const slot = `test_${id}`;
  const topic = `${region.kafka.topic}.${id}`;
  const dlqTopic = `${topic}.dlq`;
  const kafka = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 3 },
      { topic: dlqTopic, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  const log = openSync(path.join(inject('endpoints').stateDir, region.region, 'logs', `reader-${id}.log`), 'a');
  let child: ChildProcess | undefined;
  const endpoints = inject('endpoints');
  const primary = endpoints.regions.find((r) => r.home)!;
  const onStandby = endpoints.replication === 'physical' && !region.home;

  const args = [
    READER,
    '--region',
    region.region,
    '--postgres',
    region.postgres.url,
    '--kafka',
    region.kafka.brokers.join(','),
    '--rules',
    opts.rules ?? DEMO_RULES,
    '--redis',
    region.redis.url,
    '--slot',
    slot,
    '--publication',
    slot,
    '--topic',
    topic,
    '--dlq-topic',
    dlqTopic,
    '--heartbeat-ms',
    String(opts.heartbeatMs ?? 0),
    '--replication',
    inject('endpoints').replication,
    ...((opts.home ?? region.home) ? ['--home'] : []),
    ...(opts.extraArgs ?? []),
  ];
  const exited = () =>
    new Promise<number | null>((resolve) =>
      child!.exitCode !== null || child!.signalCode !== null
        ? resolve(child!.exitCode)
        : child!.once('exit', (code) => resolve(code)),
    );

  const reader: ReaderUnderTest = {
    region,
    slot,
    topic,
    dlqTopic,
    async start() {
      // A standby cannot create its publication: as an operator would, make it at the primary.
      if (onStandby)
        await withDb(primary, async (db) => {
          const exists = await db.query('select 1 from pg_publication where pubname = $1', [slot]);
          if (!exists.rowCount) await db.query(`create publication ${slot} for all tables`);
        });
      child = spawn(process.execPath, args, {
        stdio: ['ignore', log, log],
        env: { ...process.env, FABRIC_LOG_LEVEL: 'info' },
      });
      // Ready once the reader's walsender holds the slot: the session that creates a slot holds
      // it too, before the slot's start point exists.
      await eventually(
        `reader ${id} streaming`,
        async () => {
          if (child!.exitCode !== null)
            throw new Error(`reader exited with ${child!.exitCode}; see logs/reader-${id}.log`);
          // What the home reader does in a running fabric: a slot made on a standby waits for one.
          if (onStandby) await withDb(primary, (db) => db.query('select pg_log_standby_snapshot()'));
          return withDb(region, async (db) =>
            (
              await db.query(
                `select 1 from pg_replication_slots s join pg_stat_replication w on w.pid = s.active_pid
                  where s.slot_name = $1`,
                [slot],
              )
            ).rowCount
              ? true
              : undefined,
          );
        },
        30_000,
      );
    },
    exitCode() {
      return child?.exitCode ?? null;
    },
    async kill(signal = 'SIGKILL') {
      child?.kill(signal);
      await exited();
    },
    async stop() {
      child?.kill('SIGTERM');
      return exited();
    },
    async dispose() {
      if (child && child.exitCode === null && child.signalCode === null) await reader.kill();
      await eventually('slot released', () =>
        withDb(region, async (db) =>
          (await db.query('select active from pg_replication_slots where slot_name = $1', [slot])).rows[0]?.active
            ? undefined
            : true,
        ),
      );
      await withDb(region, async (db) => {
        await db.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1', [
          slot,
        ]);
        if (!onStandby) await db.query(`drop publication if exists ${slot}`);
      });
      if (onStandby) await withDb(primary, (db) => db.query(`drop publication if exists ${slot}`));
    },
  };
  return reader;
}

/** Reads a topic from the beginning until `done` says enough, or fails after timeoutMs. */
export async function readTopic<T>(
  region: RegionEndpoints,
  topic: string,
  decode: (value: Buffer) => T,
  done: (items: T[]) => boolean,
  timeoutMs = 60_000,
): Promise<T[]> {
  const kafka = new Kafka({ brokers: region.kafka.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `test-read-${randomBytes(4).toString('hex')}`,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const items: T[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out reading ${topic}: got ${items.length} messages`)),
        timeoutMs,
      );
      const check = () => {
        if (done(items)) {
          clearTimeout(timer);
          resolve();
        }
      };
      check();
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) items.push(decode(m.value!));
          check();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return items;
}

export const decodeEvent = (v: Buffer): InvalidationEvent => fromBinary(InvalidationEventSchema, v);
export const decodeDeadLetter = (v: Buffer): DeadLetter => fromBinary(DeadLetterSchema, v);
export const isData = (e: InvalidationEvent) => e.operation !== Operation.HEARTBEAT;
export { Operation };
