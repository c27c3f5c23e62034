// Profiles a second home-region reader + invalidator (side-pipeline.ts) under
// `node --cpu-prof` while the writer runs at a high rate.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../context.js';
import { readProfile, topSelfTime } from '../cpuprofile.js';
import { PROFILED_KINDS, type ProfileResult, type WorkerProfile } from '../profile-result.js';
import {
  createSideTopics,
  invalidatorScript,
  readerScript,
  sideInvalidatorArgs,
  sideReaderArgs,
  stopSidePipeline,
} from '../side-pipeline.js';
import { startWorker } from '../worker-process.js';
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
  await createSideTopics(home, TOPIC, 3);
  const reader = startWorker(readerScript(), sideReaderArgs(home, NAME, TOPIC, ['--heartbeat-ms', '0']), {
    cpuProfDir: path.join(dir, 'reader'),
  });
  const inval = startWorker(invalidatorScript(), sideInvalidatorArgs(home, TOPIC, `${TOPIC}.dlq`, 'bench-prof'), {
    cpuProfDir: path.join(dir, 'invalidator'),
  });
  await sleep(5000);
  progress(`profile: writing ${rate}/s for ${opts.stepSeconds} s with a --cpu-prof reader and invalidator`);
  const res = await writer.run({ rate, batch: opts.batch, durationMs: opts.stepSeconds * 1000 });
  await sleep(3000);
  await stopSidePipeline(home, NAME, [reader, inval]);
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
