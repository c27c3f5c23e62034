#!/usr/bin/env node
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
// `npm run bench` / `fabric-bench`: starts the fabric, measures, writes BENCHMARKS.md. See args.ts.
import path from 'node:path';
import { HELP, parseBenchArgs } from './args.js';
import { CATCH_UP_SECTION, renderCatchUp } from './catch-up-report.js';
import { DRAIN_SECTION, renderDrain } from './drain-report.js';
import { KEEP_UP_SECTION, renderKeepUp } from './keep-up-report.js';
import { machineInfo } from './machine.js';
import { runPhase, succeeded } from './phase.js';
import { seedBaselines } from './phases/baselines.js';
import { readerCatchUp } from './phases/catch-up.js';
import { debeziumBaseline } from './phases/debezium.js';
import { drainPhase } from './phases/drain.js';
import { keepUpPhase } from './phases/keep-up.js';
import { keepUpAtMax } from './phases/keep-up-max.js';
import { latencyPhase } from './phases/latency.js';
import { outages } from './phases/outage.js';
import { profileHotPath } from './phases/profile.js';
import { sdkSideBySide } from './phases/sdk.js';
import { soloRegion } from './phases/solo.js';
import { sourceLimit } from './phases/source.js';
import { stepRates } from './phases/steps.js';
import { logicalTopology } from './phases/topology.js';
import { primeCaches } from './prime.js';
import { progress } from './progress.js';
import { renderReport } from './report.js';
import { carryOver, replaceSection } from './report-section.js';
import type { BenchResults } from './results.js';
import { attachFabric, type Fabric, startFabric } from './sandbox.js';
import { renderSdk, SDK_SECTION } from './sdk/report.js';
import { openSession, prepareSession } from './session.js';

const opts = parseBenchArgs(process.argv.slice(2));
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
const stateDir = path.resolve(opts.stateDir);
const results: BenchResults = { command, opts, startedAt: new Date().toISOString() };
const loadAtStart = loadavg()[0]!;

// Hidden dev aid: BENCH_ATTACH=1 uses an already running `fabric up` on --state-dir.
let fabric: Fabric;
if (process.env.BENCH_ATTACH) {
  fabric = attachFabric(stateDir);
} else {
  progress(`starting the fabric (${opts.regions}) on ports ${opts.portBase}+ in ${stateDir}`);
  fabric = await startFabric({
    regions: opts.regions,
    portBase: opts.portBase,
    stateDir,
    topology: { postgres: opts.postgres, replication: 'physical' },
  });
  progress(`fabric ready in ${((fabric.readyMs ?? 0) / 1000).toFixed(1)} s`);
}
results.readyMs = fabric.readyMs;
const session = await openSession(fabric, opts, stateDir, progress);
const { ctx, sampler } = session;
try {
  results.machine = await machineInfo(ctx.home);
  if (opts.phase === 'sdk') {
    // Alone: the SDK phase seeds its own rows and needs no primed caches.
    await prepareSession(session, async () => {});
    results.sdk = await runPhase('sdk', progress, () => sdkSideBySide(ctx));
  } else if (opts.phase === 'drain') {
    await prepareSession(session, async () => {});
    results.drain = await runPhase('drain', progress, () => drainPhase(ctx));
  } else if (opts.phase === 'keep-up') {
    await prepareSession(session, primeCaches);
    results.keepUp = await runPhase('keep-up', progress, () => keepUpPhase(session));
  } else if (opts.phase === 'catch-up') {
    await prepareSession(session, async () => {});
    results.catchUp = await runPhase('catch-up', progress, () => readerCatchUp(ctx));
    if (!opts.skipDebezium)
      results.debezium = await runPhase('debezium', progress, () => debeziumBaseline(ctx, undefined));
  } else await allPhases();
} finally {
  await session.close();
}

async function allPhases(): Promise<void> {
  await prepareSession(session, primeCaches);
  const latency = await latencyPhase(session, 'latency');
  results.latency = latency.run;
  results.resources = latency.resources;
  results.healthz = latency.healthz;
  results.keepUpMax = await runPhase('keep-up at the maximum', progress, () => keepUpAtMax(ctx, sampler));

  progress('max sustained rate: stepping');
  sampler.reset();
  results.steps = await runPhase('steps', progress, () =>
    stepRates(ctx, { batch: opts.batch, stepSeconds: opts.stepSeconds, maxRate: opts.maxRate }),
  );
  results.resourcesSteps = sampler.results();

  if (!opts.skipProfile)
    results.profile = await runPhase('profile', progress, () => profileHotPath(ctx, succeeded(results.steps)));
  if (!opts.skipBaselines) {
    results.source = await runPhase('source limit', progress, () => sourceLimit(ctx));
    results.baselines = await runPhase('baselines', progress, () => seedBaselines(ctx));
    results.outage = await runPhase('outage', progress, () => outages(ctx));
    if (!opts.skipDebezium)
      results.debezium = await runPhase('debezium', progress, () => debeziumBaseline(ctx, results.source));
  }
  results.sdk = await runPhase('sdk', progress, () => sdkSideBySide(ctx));
}
// Attached to someone else's sandbox, the bench starts nothing of its own.
const alone = opts.phase !== 'all' || !!process.env.BENCH_ATTACH;
if (!opts.skipSolo && !alone)
  results.solo = await runPhase('solo', progress, () => soloRegion(opts, stateDir, progress));
if (!opts.skipTopologies && !alone)
  results.logical = await runPhase('logical replicas', progress, () => logicalTopology(opts, stateDir, progress));
results.finishedAt = new Date().toISOString();
if (opts.phase === 'all') {
  const previous = existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : '';
  writeFileSync(
    opts.out,
    carryOver(renderReport(results), previous, [DRAIN_SECTION, CATCH_UP_SECTION, KEEP_UP_SECTION]),
  );
} else {
  // One phase alone keeps the last full run's other sections.
  const previous = existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : '# Benchmarks\n';
  const [section, body] =
    opts.phase === 'drain'
      ? [DRAIN_SECTION, renderDrain(results.drain, command, results.machine)]
      : opts.phase === 'keep-up'
        ? [KEEP_UP_SECTION, renderKeepUp(results.keepUp, command, opts.warmup, results.machine)]
        : opts.phase === 'catch-up'
          ? [CATCH_UP_SECTION, renderCatchUp(results.catchUp, results.debezium, command, results.machine)]
          : [SDK_SECTION, renderSdk(results.sdk, command, results.machine)];
  // Other work may share the machine: say how loaded it was, which is why rates vary between runs.
  body.push(
    `Load average (1 min) at the start and the end of this run: ${loadAtStart.toFixed(1)}, ${loadavg()[0]!.toFixed(1)} on ${results.machine?.nproc ?? '?'} cores; wall-clock rates move with it, CPU per 1,000 much less.`,
    '',
  );
  writeFileSync(opts.out, replaceSection(previous, section, body.join('\n')));
}
progress(`wrote ${opts.out}`);
if (opts.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
process.exit(0);
