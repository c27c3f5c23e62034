// Reader catch-up from a standing start, the reader's own cost: a dedicated cdc-reader (own
// slot, publication and topic, the demo rules, the reader's default batching) streams and is
// warm, is frozen (SIGSTOP) while pgbench writes a burst, then released (SIGCONT): the time
// until it confirmed the burst's end LSN gives changes/s, and its /proc ticks over that time
// CPU ms per 1,000 changes, with start-up (module loading, connecting) left out. Then one
// transaction of BIG_TRANSACTION_ROWS rows, the same way, for the peak RSS (VmHWM, reset just
// before). Then the burst once more with the reader under --cpu-prof, so the profile shows the
// hot path at saturation rather than waiting.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lsnReached, type ReaderStatus } from '@fabric/contracts';
import type { RegionEndpoints } from '@fabric/sandbox';
import { Kafka, logLevel } from 'kafkajs';
import type { BenchContext } from '../context.js';
import { readProfile, type SelfTime, topSelfTime } from '../cpuprofile.js';
import { getJson } from '../fabric-state.js';
import { pgbench } from '../pgbench.js';
import { processTicks } from '../procstat.js';
import { query } from '../query.js';
import { repoPath } from '../repo-root.js';
import { seedUsers } from '../seed.js';
import { dropSideSlot } from '../side-pipeline.js';
import { waitFor } from '../wait.js';
import { startWorker } from '../worker-process.js';

const NAME = 'bench_catchup';
const TOPIC = 'bench.catchup';
export const BIG_TRANSACTION_ROWS = 200_000;
/** ids of the big transaction's rows, far above the seeded ones; deleted afterwards. */
const BIG_FIRST_ID = 10_000_000;
const CLK_TCK = 100;
const READER_SCRIPT = repoPath('packages/cdc-reader/dist/main.js');
/**
 * Hidden dev aid: another build of the reader's main.js (e.g. the previous commit's dist).
 * After the measured runs (the reader alone), it runs beside the reader on a slot,
 * publication and topic of its own for one more burst and big transaction: both are frozen
 * while the backlog is written and released together, so both builds drain the same WAL at
 * the same moments of a shared machine, which one run after the other would not.
 */
const COMPARE_READER = process.env.BENCH_COMPARE_READER;
const COMPARE_NAME = `${NAME}_cmp`;
const COMPARE_TOPIC = `${TOPIC}.cmp`;

export interface CatchUpRun {
  changes: number;
  /** SIGCONT → the reader confirmed the backlog's end LSN */
  drainMs: number | null;
  rate: number | null;
  cpuMsPer1000: number | null;
  /** VmHWM over the run (reset before it), MB */
  peakRssMb: number | null;
}

export interface CatchUpResult {
  /** pgbench burst, 16 clients */
  burst: CatchUpRun & { pgbenchTps: number };
  /**
   * With BENCH_COMPARE_READER: a burst and a big transaction again, this build and that one
   * draining them side by side, at once.
   */
  compared?: {
    script: string;
    pgbenchTps: number;
    burst: { current: CatchUpRun; other: CatchUpRun };
    bigTransaction: { current: CatchUpRun; other: CatchUpRun };
  };
  /** one INSERT … SELECT of BIG_TRANSACTION_ROWS rows */
  bigTransaction: CatchUpRun;
  profile: { file: string; top: SelfTime[] } | { error: string };
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

const peakRssMb = (pid: number): number | null => {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : null;
};

/** Resets the kernel's peak RSS of pid (clear_refs "5"); false where the kernel refuses. */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * A position the reader confirms exactly: a non-transactional logical message (outside every
 * publication, ignored by the rules for its prefix) is confirmed at its own LSN, which
 * pg_logical_emit_message returns. pg_current_wal_lsn() would not do: WAL the publication
 * does not cover (other tables, standby snapshots) is confirmed only on a later keepalive.
 */
const marker = async (home: RegionEndpoints): Promise<string> =>
  (
    await query<{ l: string }>(
      home.postgres.url,
      "select pg_logical_emit_message(false, 'fabric-bench-catch-up', '')::text as l",
    )
  ).rows[0]?.l ?? '0/0';

interface ReaderSetup {
  profileDir?: string;
  script?: string;
  /** slot and publication */
  name?: string;
  topic?: string;
}

class CatchUpReader {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  private readonly port: number;

  constructor(
    home: RegionEndpoints,
    port: number,
    readonly log: string,
    { profileDir, script = READER_SCRIPT, name = NAME, topic = TOPIC }: ReaderSetup = {},
  ) {
    const args = [
      '--region',
      home.region,
      '--postgres',
      home.postgres.url,
      '--kafka',
      home.kafka.brokers.join(','),
      '--rules',
      repoPath('deploy/key-rules.demo.yaml'),
      '--topic',
      topic,
      '--dlq-topic',
      `${topic}.dlq`,
      '--slot',
      name,
      '--publication',
      name,
      '--heartbeat-ms',
      '0',
      '--continuity',
      'off',
      '--metrics-port',
      String(port),
    ];
    ({ child: this.child, exited: this.exited } = startWorker(script, args, {
      cpuProfDir: profileDir,
      logFile: log,
    }));
    this.port = port;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  health(): Promise<ReaderStatus | null> {
    return getJson<ReaderStatus>(`http://127.0.0.1:${this.port}/healthz`);
  }

  async confirmed(lsn: string): Promise<boolean> {
    return lsnReached((await this.health())?.confirmedLsn, lsn);
  }

  async stop(): Promise<void> {
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    await Promise.race([this.exited, sleep(15_000)]);
  }
}

/** Freezes the reader, lets `write` build a backlog, releases it and times the drain. */
async function drainAfter(reader: CatchUpReader, home: RegionEndpoints, write: () => Promise<number>) {
  const [run] = await drainTogether([reader], home, write);
  return run!;
}

/** drainAfter for several readers at once: frozen together, released together, each timed on its own. */
async function drainTogether(
  readers: readonly CatchUpReader[],
  home: RegionEndpoints,
  write: () => Promise<number>,
): Promise<CatchUpRun[]> {
  for (const reader of readers) reader.child.kill('SIGSTOP');
  const changes = await write();
  const end = await marker(home);
  const rssReset = readers.map((reader) => resetPeakRss(reader.pid));
  const ticks0 = readers.map((reader) => processTicks(reader.pid));
  const t0 = performance.now();
  for (const reader of readers) reader.child.kill('SIGCONT');
  return Promise.all(
    readers.map(async (reader, i): Promise<CatchUpRun> => {
      const drainMs = await waitFor(() => reader.confirmed(end), 600_000, 20);
      const elapsed = performance.now() - t0;
      const cpuMs = ((processTicks(reader.pid) - ticks0[i]!) * 1000) / CLK_TCK;
      return {
        changes,
        drainMs: drainMs === null ? null : elapsed,
        rate: drainMs === null ? null : changes / (elapsed / 1000),
        cpuMsPer1000: changes > 0 ? cpuMs / (changes / 1000) : null,
        peakRssMb: rssReset[i] ? peakRssMb(reader.pid) : null,
      };
    }),
  );
}

async function startWarm(ctx: BenchContext, log: string, setup: ReaderSetup = {}): Promise<CatchUpReader> {
  const [reader] = await startWarmTogether(ctx, [{ log, setup }]);
  return reader!;
}

async function startWarmTogether(
  ctx: BenchContext,
  wanted: ReadonlyArray<{ log: string; setup: ReaderSetup }>,
): Promise<CatchUpReader[]> {
  const readers: CatchUpReader[] = [];
  for (const { log, setup } of wanted) readers.push(new CatchUpReader(ctx.home, await freePort(), log, setup));
  for (const reader of readers)
    if ((await waitFor(async () => (await reader.health()) !== null, 60_000, 100)) === null)
      throw new Error(`the catch-up reader did not answer /healthz within 60 s; see ${reader.log}`);
  // Warm: a short load they decode live, so the JIT is done before the measured drain.
  await ctx.writer.run({ rate: 500, batch: 1, durationMs: 3000 });
  const end = await marker(ctx.home);
  for (const reader of readers)
    if ((await waitFor(() => reader.confirmed(end), 60_000, 50)) === null)
      throw new Error(
        `the catch-up reader did not confirm its warm-up (${end}) within 60 s, at ${(await reader.health())?.confirmedLsn ?? 'no answer'}; see ${reader.log}`,
      );
  return readers;
}

export async function readerCatchUp(ctx: BenchContext): Promise<CatchUpResult> {
  const { home, progress, opts, stateDir } = ctx;
  const seconds = Math.min(15, opts.stepSeconds);
  // pgbench and the warm-up update rows 1..rows: without them every UPDATE matches nothing.
  progress(`catch-up: seeding ${opts.rows} users at the primary`);
  await seedUsers(home, ctx.regions, opts.rows, progress);
  const dir = path.join(stateDir, 'catch-up');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const admin = new Kafka({
    clientId: 'bench-catchup',
    brokers: home.kafka.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin
    .createTopics({
      topics: [TOPIC, ...(COMPARE_READER ? [COMPARE_TOPIC] : [])].flatMap((topic) => [
        { topic, numPartitions: 3, replicationFactor: 1 },
        { topic: `${topic}.dlq`, numPartitions: 1, replicationFactor: 1 },
      ]),
    })
    .catch(() => {});
  await admin.disconnect();
  const burstWrite = async (): Promise<{ changes: number; tps: number }> => {
    const b = await pgbench(home, { rows: opts.rows, seconds, clients: 16 });
    return { changes: b.txns, tps: b.tps };
  };
  let reader: CatchUpReader | undefined;
  let comparison: CatchUpReader | undefined;
  try {
    reader = await startWarm(ctx, path.join(dir, 'reader.log'));
    const measuredReader = reader;
    progress(`catch-up: reader frozen, pgbench burst ${seconds} s, reader released`);
    let tps = Number.NaN;
    const burst = await drainAfter(reader, home, async () => {
      const b = await burstWrite();
      tps = b.tps;
      return b.changes;
    });
    progress(
      `catch-up: ${burst.changes} changes in ${burst.drainMs?.toFixed(0) ?? 'n/a'} ms = ${burst.rate?.toFixed(0) ?? 'n/a'} changes/s, ${burst.cpuMsPer1000?.toFixed(1) ?? 'n/a'} CPU ms per 1,000`,
    );

    progress(`catch-up: one transaction of ${BIG_TRANSACTION_ROWS} rows`);
    const bigWrite = async () => {
      await query(
        home.postgres.url,
        `insert into public.users (id, team_id, name, email)
           select g, g % 100, 'bulk ' || g, 'bulk' || g || '@example.com'
             from generate_series(${BIG_FIRST_ID + 1}, ${BIG_FIRST_ID + BIG_TRANSACTION_ROWS}) g`,
      );
      return BIG_TRANSACTION_ROWS;
    };
    const bigTransaction = await drainAfter(reader, home, bigWrite);
    progress(
      `catch-up: ${BIG_TRANSACTION_ROWS}-row transaction drained in ${bigTransaction.drainMs?.toFixed(0) ?? 'n/a'} ms, peak RSS ${bigTransaction.peakRssMb?.toFixed(0) ?? 'n/a'} MB`,
    );
    await query(home.postgres.url, `delete from public.users where id > ${BIG_FIRST_ID}`);

    await measuredReader.stop();
    reader = undefined;

    let compared: CatchUpResult['compared'];
    if (COMPARE_READER) {
      // Both fresh: a reader that just held a 200,000-row transaction carries its heap into the next drain.
      progress(`catch-up: this build and the comparison reader ${COMPARE_READER} side by side (slot ${COMPARE_NAME})`);
      const pair = await startWarmTogether(ctx, [
        { log: path.join(dir, 'paired.log'), setup: {} },
        {
          log: path.join(dir, 'compared.log'),
          setup: { script: COMPARE_READER, name: COMPARE_NAME, topic: COMPARE_TOPIC },
        },
      ]);
      [reader, comparison] = pair;
      let pairedTps = Number.NaN;
      const [current, other] = await drainTogether(pair, home, async () => {
        const b = await burstWrite();
        pairedTps = b.tps;
        return b.changes;
      });
      const [currentBig, otherBig] = await drainTogether(pair, home, bigWrite);
      await query(home.postgres.url, `delete from public.users where id > ${BIG_FIRST_ID}`);
      if (current && other && currentBig && otherBig) {
        compared = {
          script: COMPARE_READER,
          pgbenchTps: pairedTps,
          burst: { current, other },
          bigTransaction: { current: currentBig, other: otherBig },
        };
        progress(
          `catch-up side by side (this build / comparison): burst ${current.cpuMsPer1000?.toFixed(1) ?? 'n/a'} / ${other.cpuMsPer1000?.toFixed(1) ?? 'n/a'} CPU ms per 1,000, ${BIG_TRANSACTION_ROWS} rows ${currentBig.cpuMsPer1000?.toFixed(1) ?? 'n/a'} / ${otherBig.cpuMsPer1000?.toFixed(1) ?? 'n/a'}`,
        );
      }
      for (const r of pair) await r.stop();
      reader = undefined;
      comparison = undefined;
    }

    progress('catch-up: the same burst with the reader under --cpu-prof');
    const profDir = path.join(dir, 'profile');
    mkdirSync(profDir, { recursive: true });
    reader = await startWarm(ctx, path.join(dir, 'profiled.log'), { profileDir: profDir });
    await drainAfter(reader, home, async () => (await burstWrite()).changes);
    await reader.stop();
    reader = undefined;
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    const profile = file
      ? { file: path.join(profDir, file), top: topSelfTime(readProfile(path.join(profDir, file)), 20) }
      : { error: 'no .cpuprofile written (the reader did not exit cleanly)' };
    return { burst: { ...burst, pgbenchTps: tps }, ...(compared ? { compared } : {}), bigTransaction, profile };
  } finally {
    await reader?.stop();
    await comparison?.stop();
    await query(home.postgres.url, `delete from public.users where id > ${BIG_FIRST_ID}`).catch(() => {});
    for (const name of [NAME, COMPARE_NAME]) await dropSideSlot(home, name);
  }
}
