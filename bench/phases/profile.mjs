// Profiles a second home-region reader + invalidator (own slot, publication, topic,
// group) under `node --cpu-prof` while the writer runs at a high rate.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { query } from '../lib/seed.mjs';
import { topSelfTime, readProfile } from '../lib/cpuprofile.mjs';

const NAME = 'bench_prof';
const TOPIC = 'bench.prof';

function startWorker(script, args, dir, logFile) {
  const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, script, ...args], { stdio: 'ignore', env: { ...process.env, FABRIC_LOG_LEVEL: 'warn' } });
  const exited = new Promise((r) => child.once('exit', r));
  return { child, exited };
}

export async function profileHotPath(ctx, steps) {
  const { home, writer, progress, opts, stateDir } = ctx;
  const rate = Math.max(2000, Math.round(steps?.fabricMax ?? 0));
  const dir = path.join(stateDir, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'reader'), { recursive: true });
  mkdirSync(path.join(dir, 'invalidator'), { recursive: true });
  const admin = new Kafka({ clientId: 'bench-prof', brokers: home.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 1 }, { topic: `${TOPIC}.dlq`, numPartitions: 1, replicationFactor: 1 }] }).catch(() => {});
  await admin.disconnect();
  const reader = startWorker(path.resolve('packages/cdc-reader/dist/main.js'), [
    '--region', home.region, '--postgres', home.postgres.url, '--kafka', home.kafka.brokers.join(','), '--rules', path.resolve('deploy/key-rules.demo.yaml'),
    '--topic', TOPIC, '--dlq-topic', `${TOPIC}.dlq`, '--slot', NAME, '--publication', NAME, '--heartbeat-ms', '0', '--metrics-port', '0',
  ], path.join(dir, 'reader'));
  const inval = startWorker(path.resolve('packages/invalidator/dist/main.js'), [
    '--region', home.region, '--kafka', home.kafka.brokers.join(','), '--redis', home.redis.url, '--topic', TOPIC, '--dlq-topic', `${TOPIC}.dlq`,
    '--group', 'bench-prof', '--metrics-port', '0',
  ], path.join(dir, 'invalidator'));
  await new Promise((r) => setTimeout(r, 5000));
  progress(`profile: writing ${rate}/s for ${opts.stepSeconds} s with a --cpu-prof reader and invalidator`);
  const res = await writer.run({ rate, batch: opts.batch, durationMs: opts.stepSeconds * 1000 });
  await new Promise((r) => setTimeout(r, 3000));
  for (const w of [reader, inval]) w.child.kill('SIGTERM');
  await Promise.race([Promise.all([reader.exited, inval.exited]), new Promise((r) => setTimeout(r, 15000))]);
  await query(home.postgres.url, `select pg_drop_replication_slot('${NAME}') where exists (select 1 from pg_replication_slots where slot_name = '${NAME}')`).catch(() => {});
  await query(home.postgres.url, `drop publication if exists ${NAME}`).catch(() => {});
  const out = { rate, achievedRate: res.achievedRate, dir };
  for (const kind of ['reader', 'invalidator']) {
    const files = readdirSync(path.join(dir, kind)).filter((f) => f.endsWith('.cpuprofile'));
    out[kind] = files.length ? { file: path.join(dir, kind, files[0]), top: topSelfTime(readProfile(path.join(dir, kind, files[0])), 15) } : { error: 'no .cpuprofile written (worker did not exit cleanly)' };
  }
  progress(`profile: written under ${dir}`);
  return out;
}
