// Baseline 2, Debezium embedded (packages/bench/debezium): the Debezium PostgreSQL connector
// (pgoutput, own slot and publication bench_debezium, no snapshot) runs in a small Java main
// against the home primary, alongside our home reader, during a fixed-rate write burst and
// during a catch-up (probe stopped, K changes written, probe started: time to drain).
// Debezium: commit (source.ts_ms) → change handed to the embedded engine's consumer. Ours:
// commit → the Kafka record timestamp of the published event (and → the reader's decode
// time, emitted_time) on the home topic.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { decodeInvalidation } from '@fabric/invalidator';
import type { RegionEndpoints } from '@fabric/sandbox';
import { Kafka, logLevel } from 'kafkajs';
import type { BenchContext } from '../context.js';
import { type ProbeLine, parseProbeLine, type StreamStats, streamStats } from '../debezium-stats.js';
import { pgbench } from '../pgbench.js';
import { type PhaseOutcome, succeeded } from '../phase.js';
import { query } from '../query.js';
import { repoPath } from '../repo-root.js';
import { type LatencySummary, summarize } from '../stats.js';
import { waitFor } from '../wait.js';
import type { SourceLimitResult } from './source.js';

const run = promisify(execFile);
const SLOT = 'bench_debezium';
const LIBS = repoPath('.fabric/debezium-libs');
const CLASSES = repoPath('.fabric/debezium-classes');
const POM = repoPath('packages/bench/debezium/pom.xml');
const SOURCE = repoPath('packages/bench/debezium/src/DebeziumProbe.java');

export interface ReaderStream {
  changes: number;
  /** changes / (last record timestamp − first), changes/s */
  rate: number | null;
  /** commit → Kafka record timestamp (published) */
  publish: LatencySummary;
  /** commit → the reader decoded it (emitted_time) */
  decode: LatencySummary;
}

/**
 * Debezium waits poll.interval.ms (default 500) for changes before handing over a batch;
 * set to our reader's linger (5 ms) so the latency comparison is not decided by a default.
 */
export const DEBEZIUM_POLL_INTERVAL_MS = 5;

export interface DebeziumResult {
  version: string;
  pollIntervalMs: number;
  live: {
    rate: number;
    durationMs: number;
    committed: number;
    achievedRate: number;
    debezium: StreamStats;
    reader: ReaderStream;
  };
  catchUp: {
    changes: number;
    pgbenchTps: number;
    /** probe spawned → streaming task started (JVM + connector start) */
    startupMs: number | null;
    /** streaming task started → every change of the burst seen; null if not within 300 s */
    drainMs: number | null;
    /** changes / drain time */
    rate: number | null;
    /** our home reader's catch-up rate from the source-limit phase */
    readerRate: number | null;
  };
}

async function ensureLibs(progress: (m: string) => void): Promise<void> {
  if (existsSync(LIBS) && readdirSync(LIBS).some((f) => f.startsWith('debezium-embedded-'))) return;
  progress(`debezium: resolving the engine into ${LIBS} (mvn)`);
  await run('mvn', ['-q', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${LIBS}`], {
    maxBuffer: 1 << 24,
    timeout: 600_000,
  });
}

async function ensureClasses(): Promise<void> {
  const cls = path.join(CLASSES, 'DebeziumProbe.class');
  if (existsSync(cls) && statSync(cls).mtimeMs >= statSync(SOURCE).mtimeMs) return;
  mkdirSync(CLASSES, { recursive: true });
  await run('javac', ['-nowarn', '-d', CLASSES, '-cp', `${LIBS}/*`, SOURCE], { maxBuffer: 1 << 24 });
}

/** The running Java probe: its changes so far, and when it started streaming. */
class Probe {
  readonly lines: ProbeLine[] = [];
  readyAt: number | null = null;
  readonly spawnedAt = performance.now();
  private readonly child: ChildProcess;
  readonly exited: Promise<unknown>;

  constructor(home: RegionEndpoints, offsets: string, log: string) {
    this.child = spawn(
      'java',
      [
        '-Xmx384m',
        '-cp',
        `${LIBS}/*:${CLASSES}`,
        'DebeziumProbe',
        home.postgres.host,
        String(home.postgres.port),
        home.postgres.database,
        offsets,
        SLOT,
        String(DEBEZIUM_POLL_INTERVAL_MS),
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    this.child.stderr?.pipe(createWriteStream(log, { flags: 'a' }));
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const c = parseProbeLine(line);
      if (c) this.lines.push(c);
      else if (line.startsWith('READY')) this.readyAt ??= performance.now();
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Closes stdin (the probe stops its engine, flushing offsets); SIGKILL after 20 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.stdin?.end();
    const done = await Promise.race([this.exited.then(() => true), sleep(20_000).then(() => false)]);
    if (!done) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

async function dropSlot(home: RegionEndpoints): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      await query(
        home.postgres.url,
        `select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '${SLOT}'`,
      );
      break;
    } catch {
      await sleep(500); // still active for a moment after the probe exited
    }
  }
  await query(home.postgres.url, `drop publication if exists ${SLOT}`).catch(() => {});
}

const tsMs = (t: { seconds: bigint; nanos: number } | undefined): number | null =>
  t ? Number(t.seconds) * 1000 + t.nanos / 1e6 : null;

/** Our home reader's events for public.users published between two offset snapshots. */
async function readerStream(
  home: RegionEndpoints,
  from: Map<number, string>,
  to: Map<number, string>,
): Promise<ReaderStream> {
  const kafka = new Kafka({ clientId: 'bench-dbz', brokers: home.kafka.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-dbz-${Date.now()}` });
  const publish: number[] = [];
  const decode: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  const left = new Map([...to].filter(([p, end]) => BigInt(end) > BigInt(from.get(p) ?? '0')));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: home.kafka.topic, fromBeginning: false });
    const done = new Promise<void>((resolve) => {
      if (left.size === 0) resolve();
      void consumer.run({
        eachBatch: async ({ batch }) => {
          const end = left.get(batch.partition);
          for (const m of batch.messages) {
            if (end !== undefined && BigInt(m.offset) >= BigInt(end)) break;
            const d = decodeInvalidation(m.value);
            if (!d.ok || d.event.table !== 'public.users' || d.event.operation !== 2) continue;
            const commit = tsMs(d.event.primaryCommitTime);
            const emitted = tsMs(d.event.emittedTime);
            const ts = Number(m.timestamp);
            first = Math.min(first, ts);
            last = Math.max(last, ts);
            if (commit !== null) {
              publish.push(ts - commit);
              if (emitted !== null) decode.push(emitted - commit);
            }
          }
          if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= BigInt(end)) left.delete(batch.partition);
          if (left.size === 0) resolve();
        },
      });
    });
    for (const [p, o] of from) consumer.seek({ topic: home.kafka.topic, partition: p, offset: o });
    await Promise.race([done, sleep(60_000)]);
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  const n = publish.length;
  return {
    changes: n,
    rate: n >= 2 && last > first ? n / ((last - first) / 1000) : null,
    publish: summarize(publish),
    decode: summarize(decode),
  };
}

async function topicOffsets(home: RegionEndpoints): Promise<Map<number, string>> {
  const admin = new Kafka({
    clientId: 'bench-dbz-admin',
    brokers: home.kafka.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(home.kafka.topic)).map((o) => [o.partition, o.high]));
  } finally {
    await admin.disconnect();
  }
}

export async function debeziumBaseline(
  ctx: BenchContext,
  source: PhaseOutcome<SourceLimitResult> | undefined,
): Promise<DebeziumResult> {
  const { home, writer, progress, opts, stateDir } = ctx;
  await ensureLibs(progress);
  await ensureClasses();
  const dir = path.join(stateDir, 'debezium');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const offsets = path.join(dir, 'offsets.dat');
  const log = path.join(dir, 'probe.log');
  const version =
    readdirSync(LIBS)
      .find((f) => f.startsWith('debezium-embedded-'))
      ?.replace(/^debezium-embedded-|\.jar$/g, '') ?? 'n/a';
  await dropSlot(home);
  let probe: Probe | undefined;
  try {
    progress(`debezium: starting the embedded engine ${version} (slot ${SLOT}, pgoutput, snapshot.mode=never)`);
    probe = new Probe(home, offsets, log);
    const p0 = probe;
    if ((await waitFor(() => p0.readyAt !== null || !p0.running, 120_000, 100)) === null || !p0.running)
      throw new Error(`the Debezium probe did not start streaming; see ${log}`);
    // Warm-up: until the engine hands over changes (slot streaming, JIT warm), not measured.
    const warm = await writer.run({ rate: 200, batch: 1, durationMs: 2000 });
    if ((await waitFor(() => p0.lines.length >= warm.changes, 60_000, 100)) === null)
      throw new Error(
        `the Debezium probe saw ${p0.lines.length} of ${warm.changes} warm-up changes in 60 s; see ${log}`,
      );
    await sleep(1000);

    // Live: a fixed-rate burst with both running.
    const rate = opts.rate;
    const durationMs = Math.min(opts.duration, 10) * 1000;
    const from = await topicOffsets(home);
    const seen0 = p0.lines.length;
    progress(`debezium: live burst ${rate}/s for ${durationMs / 1000} s, Debezium and our reader side by side`);
    const w = await writer.run({ rate, batch: 1, durationMs });
    await waitFor(() => p0.lines.length - seen0 >= w.changes, 60_000, 100);
    await sleep(3000);
    const to = await topicOffsets(home);
    const debezium = streamStats(p0.lines.slice(seen0));
    const reader = await readerStream(home, from, to);
    progress(
      `debezium: live: Debezium ${debezium.changes} changes, p99 ${debezium.latency.p99?.toFixed(0)} ms; our reader ${reader.changes} changes, publish p99 ${reader.publish.p99?.toFixed(0)} ms`,
    );

    // Catch-up: probe stopped, a pgbench burst, probe started again: time to drain.
    await p0.stop();
    const seconds = Math.min(15, opts.stepSeconds);
    progress(`debezium: probe stopped; pgbench burst ${seconds} s`);
    const burst = await pgbench(home, { rows: opts.rows, seconds, clients: 16 });
    probe = new Probe(home, offsets, log);
    const p1 = probe;
    await waitFor(() => p1.readyAt !== null || !p1.running, 120_000, 50);
    const startupMs = p1.readyAt === null ? null : p1.readyAt - p1.spawnedAt;
    const drainMs = p1.readyAt === null ? null : await waitFor(() => p1.lines.length >= burst.txns, 300_000, 50);
    // The drain is over once the last burst change was handed over; measured from READY.
    const lastSeen = p1.lines[burst.txns - 1];
    const drainFromReady =
      drainMs === null || p1.readyAt === null || !lastSeen
        ? drainMs
        : Math.max(1, lastSeen.seenMs - (performance.timeOrigin + p1.readyAt));
    const catchUpRate = drainFromReady ? burst.txns / (drainFromReady / 1000) : null;
    progress(
      `debezium: catch-up ${burst.txns} changes: startup ${startupMs?.toFixed(0)} ms, drained in ${drainFromReady?.toFixed(0) ?? 'n/a'} ms = ${catchUpRate?.toFixed(0) ?? 'n/a'} changes/s`,
    );
    return {
      version,
      pollIntervalMs: DEBEZIUM_POLL_INTERVAL_MS,
      live: { rate, durationMs, committed: w.changes, achievedRate: w.achievedRate, debezium, reader },
      catchUp: {
        changes: burst.txns,
        pgbenchTps: burst.tps,
        startupMs,
        drainMs: drainFromReady,
        rate: catchUpRate,
        readerRate: succeeded(source)?.readerCatchUpRate ?? null,
      },
    };
  } finally {
    await probe?.stop();
    await dropSlot(home);
  }
}
