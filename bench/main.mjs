// `npm run bench`: starts the fabric, measures, writes BENCHMARKS.md. See lib/args.mjs.
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { parseBenchArgs, HELP } from './lib/args.mjs';
import { progress } from './lib/progress.mjs';
import { startFabric } from './lib/sandbox.mjs';
import { ComponentSampler } from './lib/sampler.mjs';
import { KafkaLag, invalidatorHealth } from './lib/fabric-state.mjs';
import { seedUsers, currentValues } from './lib/seed.mjs';
import { RegionProbe, fillKeys } from './lib/probe.mjs';
import { Writer } from './lib/writer.mjs';
import { measureRun } from './phases/measure.mjs';
import { stepRates } from './phases/steps.mjs';
import { sourceLimit } from './phases/source.mjs';
import { seedBaselines } from './phases/baselines.mjs';
import { outages } from './phases/outage.mjs';
import { profileHotPath } from './phases/profile.mjs';
import { debeziumBaseline } from './phases/debezium.mjs';
import { waitFor } from './lib/wait.mjs';
import { machineInfo } from './lib/machine.mjs';
import { renderReport } from './lib/report.mjs';

const opts = parseBenchArgs(process.argv.slice(2));
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
const stateDir = path.resolve(opts.stateDir);
const results = { command, opts, startedAt: new Date().toISOString() };

// Hidden dev aid: BENCH_ATTACH=1 uses an already running `fabric up` on --state-dir.
let fabric;
if (process.env.BENCH_ATTACH) {
  const st = JSON.parse(readFileSync(path.join(stateDir, 'sandbox.json'), 'utf8'));
  fabric = { endpoints: st.endpoints, readyMs: null, stop: async () => {}, service: (await import('./lib/sandbox.mjs')).serviceFor(stateDir) };
} else {
  progress(`starting the fabric (${opts.regions}) on ports ${opts.portBase}+ in ${stateDir}`);
  fabric = await startFabric({ regions: opts.regions, portBase: opts.portBase, stateDir });
  progress(`fabric ready in ${(fabric.readyMs / 1000).toFixed(1)} s`);
}
results.readyMs = fabric.readyMs;
const regions = fabric.endpoints.regions;
const home = regions.find((r) => r.home);
const sampler = new ComponentSampler(stateDir, regions.map((r) => r.region));
sampler.start();
const kafkaLag = new KafkaLag(regions);
const probes = new Map(regions.map((r) => [r.region, new RegionProbe(r.region, r.redis.url)]));
const writer = new Writer(home.postgres.url, Array.from({ length: opts.rows }, (_, i) => i + 1));
const ctx = { fabric, regions, home, probes, writer, kafkaLag, progress, opts, stateDir };

async function phase(name, fn) {
  try {
    return await fn();
  } catch (err) {
    progress(`${name} failed: ${err?.stack ?? err}`);
    return { error: String(err?.message ?? err) };
  }
}

try {
  results.machine = await machineInfo(home);
  await kafkaLag.open();
  progress(`seeding ${opts.rows} users at the primary`);
  await seedUsers(home, regions, opts.rows, progress);
  progress('waiting for the fabric to drain the seed');
  await waitFor(async () => (await Promise.all(regions.map((r) => kafkaLag.lag(r.region)))).every((l) => l === 0), 120_000, 500);
  await new Promise((r) => setTimeout(r, 2000));
  const values = await currentValues(home.postgres.url, opts.rows);
  for (const r of regions) {
    const redis = new Redis(r.redis.url);
    await fillKeys(redis, [...values]);
    redis.disconnect();
  }
  for (const p of probes.values()) {
    await p.open();
    for (const [id, v] of values) p.values.set(id, v);
  }
  await writer.open();
  const before = Object.fromEntries(await Promise.all(regions.map(async (r) => [r.region, await invalidatorHealth(r)])));

  progress(`latency run: ${opts.rate} changes/s, batch ${opts.batch}, ${opts.duration} s`);
  sampler.reset();
  results.latency = await measureRun(ctx, { rate: opts.rate, batch: opts.batch, durationMs: opts.duration * 1000, label: 'latency' });
  results.resources = sampler.results();
  results.healthz = Object.fromEntries(await Promise.all(regions.map(async (r) => [r.region, { before: before[r.region]?.latencyMs, after: (await invalidatorHealth(r))?.latencyMs }])));

  progress('max sustained rate: stepping');
  sampler.reset();
  results.steps = await phase('steps', () => stepRates(ctx, { batch: opts.batch, stepSeconds: opts.stepSeconds, maxRate: opts.maxRate }));
  results.resourcesSteps = sampler.results();

  if (!opts.skipProfile) results.profile = await phase('profile', () => profileHotPath(ctx, results.steps));
  if (!opts.skipBaselines) {
    results.source = await phase('source limit', () => sourceLimit(ctx));
    results.baselines = await phase('baselines', () => seedBaselines(ctx));
    results.outage = await phase('outage', () => outages(ctx));
    if (!opts.skipDebezium) results.debezium = await phase('debezium', () => debeziumBaseline(ctx, results.source));
  }
} finally {
  sampler.stop();
  for (const p of probes.values()) await p.close().catch(() => {});
  await writer.close();
  await kafkaLag.close();
  progress('stopping the fabric');
  await fabric.stop();
}
results.finishedAt = new Date().toISOString();
writeFileSync(opts.out, renderReport(results));
progress(`wrote ${opts.out}`);
if (opts.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
process.exit(0);
