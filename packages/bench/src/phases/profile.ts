// Profiles a second home-region reader + invalidator (own slot, publication, topic,
// group) under `node --cpu-prof` while the writer runs at a high rate.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import type { BenchContext } from '../context.js';
import { startProfiledWorker } from '../cpu-prof-worker.js';
import { readProfile, topSelfTime } from '../cpuprofile.js';
import { PROFILED_KINDS, type ProfileResult, type WorkerProfile } from '../profile-result.js';
import { query } from '../query.js';
import { repoPath } from '../repo-root.js';
import type { StepsResult } from './steps.js';

const NAME = 'bench_prof';
const TOPIC = 'bench.prof';

function profileOf(dir: string): WorkerProfile {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return { error: 'no .cpuprofile written (worker did not exit cleanly)' };
  return { file: path.join(dir, file), top: topSelfTime(readProfile(path.join(dir, file)), 15) };
}

export async function profileHotPath(ctx: BenchContext, steps: StepsResult | undefined): Promise<ProfileResult> {
  const { home, writer, progress, opts, stateDir } = ctx;
  const rate = Math.max(2000, Math.round(steps?.fabricMax ?? 0));
  const dir = path.join(stateDir, 'profile');
  rmSync(dir, { recursive: true, force: true });
  for (const kind of PROFILED_KINDS) mkdirSync(path.join(dir, kind), { recursive: true });
  const admin = new Kafka({ clientId: 'bench-prof', brokers: home.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin
    .createTopics({
      topics: [
        { topic: TOPIC, numPartitions: 3, replicationFactor: 1 },
        { topic: `${TOPIC}.dlq`, numPartitions: 1, replicationFactor: 1 },
      ],
    })
    .catch(() => {});
  await admin.disconnect();
  const reader = startProfiledWorker(
    repoPath('packages/cdc-reader/dist/main.js'),
    [
      '--region',
      home.region,
      '--postgres',
      home.postgres.url,
      '--kafka',
      home.kafka.brokers.join(','),
      '--rules',
      repoPath('deploy/key-rules.demo.yaml'),
      '--topic',
      TOPIC,
      '--dlq-topic',
      `${TOPIC}.dlq`,
      '--slot',
      NAME,
      '--publication',
      NAME,
      '--heartbeat-ms',
      '0',
      '--metrics-port',
      '0',
    ],
    path.join(dir, 'reader'),
  );
  const inval = startProfiledWorker(
    repoPath('packages/invalidator/dist/main.js'),
    [
      '--region',
      home.region,
      '--kafka',
      home.kafka.brokers.join(','),
      '--redis',
      home.redis.url,
      '--topic',
      TOPIC,
      '--dlq-topic',
      `${TOPIC}.dlq`,
      '--group',
      'bench-prof',
      '--metrics-port',
      '0',
    ],
    path.join(dir, 'invalidator'),
  );
  await sleep(5000);
  progress(`profile: writing ${rate}/s for ${opts.stepSeconds} s with a --cpu-prof reader and invalidator`);
  const res = await writer.run({ rate, batch: opts.batch, durationMs: opts.stepSeconds * 1000 });
  await sleep(3000);
  for (const w of [reader, inval]) w.child.kill('SIGTERM');
  await Promise.race([Promise.all([reader.exited, inval.exited]), sleep(15000)]);
  await query(
    home.postgres.url,
    `select pg_drop_replication_slot('${NAME}') where exists (select 1 from pg_replication_slots where slot_name = '${NAME}')`,
  ).catch(() => {});
  await query(home.postgres.url, `drop publication if exists ${NAME}`).catch(() => {});
  const out: ProfileResult = {
    rate,
    achievedRate: res.achievedRate,
    dir,
    reader: profileOf(path.join(dir, 'reader')),
    invalidator: profileOf(path.join(dir, 'invalidator')),
  };
  progress(`profile: written under ${dir}`);
  return out;
}
