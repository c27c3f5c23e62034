// How fast an invalidator empties a backlog: a fresh topic pre-filled with demo-rule events
// (users rows: user:{id}, user:{id}:profile, user:email:{email}, tag team:{t}:members,
// version ver:user:{id}) drained by the real built invalidator, one instance and then two
// in one group, beside the physical limit: the same Redis commands sent pipelined by a
// plain ioredis loop, with nothing decoded, planned per event or committed.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventKey } from '@fabric/contracts';
import { BATCH_SCRIPTS, batchCommandMix } from '@fabric/invalidator';
import {
  create,
  type InvalidationEvent,
  InvalidationEventSchema,
  Operation,
  timestampFromMs,
  toBinary,
} from '@fabric/proto';
import { Redis } from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import type { BenchContext } from '../context.js';
import { readProfile } from '../cpuprofile.js';
import { groupCommittedTotal, topicEndTotal } from '../kafka-lag.js';
import { processTicks } from '../procstat.js';
import { repoPath } from '../repo-root.js';
import { startWorker, stopWorkers } from '../worker-process.js';

const TOPIC = 'bench.drain';
const PARTITIONS = 4;
/** The invalidator's default --max-batch: the limit loop pipelines the same chunks. */
const CHUNK = 500;
const TEAMS = 50;
/** Chunks the limit loop keeps in flight, as the invalidator does with one per partition. */
const IN_FLIGHT = PARTITIONS;
const CLK_TCK = 100;
const STEADY_RATE = 1000;
const STEADY_SECONDS = 10;
/** The invalidator's default --version-ttl-seconds, in ms. */
const VERSION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface DrainRun {
  /** invalidator processes in the group */
  instances: number;
  /** events committed inside the measured window (after the group settled) */
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** user+system CPU of the invalidator process(es) per 1,000 events, ms */
  cpuMsPer1000: number;
  /** once drained: one event at a time into the idle topic, send → key gone from Redis, ms (sorted) */
  idleMs?: number[];
  /** once drained: CPU per 1,000 events while STEADY_RATE events/s trickle in, ms */
  steadyCpuMsPer1000?: number;
}

/** Share of the profile's non-idle samples by where the function lives, %. */
export type ProfileShares = Record<
  'kafkajs' | 'ioredis' | 'protobuf' | 'prom-client' | 'pino' | 'fabric' | 'node',
  number
>;

export interface DrainResult {
  events: number;
  partitions: number;
  /** the same command mix, pipelined by a bare ioredis loop */
  limit: { eventsPerSecond: number; commandsPerEvent: number };
  runs: DrainRun[];
  /** drain rate of one instance / physical limit */
  ratioToLimit: number;
  /** two instances / one */
  twoOverOne: number | null;
  profile?: { file: string; shares: ProfileShares; top: Array<{ fn: string; pct: number }> };
  /** the same, keeping up with STEADY_RATE instead of draining */
  steadyProfile?: DrainResult['profile'];
  /** a second build measured the same way (BENCH_DRAIN_BASELINE=path/to/main.js) */
  baseline?: DrainRun;
  /**
   * With a baseline: both builds keeping up at once, each in its drained group, on the same
   * trickle, CPU ms per 1,000 events per round. The same moments of a shared machine for
   * both, so their ratio holds where one build's run after the other's would not.
   */
  steadyPaired?: Array<{ current: number; baseline: number }>;
}

export async function drainPhase(ctx: BenchContext, events = 200_000): Promise<DrainResult> {
  const { home, progress, stateDir } = ctx;
  const kafka = new Kafka({ clientId: 'bench-drain', brokers: home.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const redis = new Redis(home.redis.url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  try {
    progress(`drain: filling ${TOPIC} (${PARTITIONS} partitions) with ${events} demo-rule events`);
    const batch = demoEvents(home.region, events);
    await freshTopic(admin);
    await fill(kafka, batch);

    progress('drain: physical limit (same commands, pipelined ioredis)');
    const limit = await physicalLimit(redis, batch);
    progress(`drain: limit ${limit.eventsPerSecond.toFixed(0)} events/s`);

    const script = repoPath('packages/invalidator/dist/main.js');
    const args = invalidatorArgs(home);
    const keepingUp = async (n: number, ticks: () => number) => ({
      idleMs: await idleLatencies(kafka, redis, n, home.region),
      steadyCpuMsPer1000: await steadyCpu(kafka, n + 100, home.region, ticks),
    });
    const runs: DrainRun[] = [];
    let drainedGroup = '';
    for (const instances of [1, 2]) {
      const idle = instances === 1 ? keepingUp : undefined;
      const groupId = `bench-drain-${instances}-${Date.now()}`;
      if (instances === 1) drainedGroup = groupId;
      const run = await drainWith(admin, script, args, instances, events, groupId, undefined, idle);
      progress(
        `drain: ${instances} instance(s): ${run.eventsPerSecond.toFixed(0)} events/s, ${run.cpuMsPer1000.toFixed(1)} ms CPU / 1,000`,
      );
      runs.push(run);
    }
    const one = runs[0]!;
    const two = runs[1];
    const result: DrainResult = {
      events,
      partitions: PARTITIONS,
      limit,
      runs,
      ratioToLimit: one.eventsPerSecond / limit.eventsPerSecond,
      twoOverOne: two ? two.eventsPerSecond / one.eventsPerSecond : null,
    };
    const baselineScript = process.env.BENCH_DRAIN_BASELINE;
    if (baselineScript) {
      const baselineGroup = `bench-drain-base-${Date.now()}`;
      result.baseline = await drainWith(
        admin,
        path.resolve(baselineScript),
        args,
        1,
        events,
        baselineGroup,
        undefined,
        keepingUp,
      );
      progress(
        `drain: baseline build: ${result.baseline.eventsPerSecond.toFixed(0)} events/s, ${result.baseline.cpuMsPer1000.toFixed(1)} ms CPU / 1,000`,
      );
      result.steadyPaired = await steadySideBySide(
        admin,
        kafka,
        [
          { script, group: drainedGroup },
          { script: path.resolve(baselineScript), group: baselineGroup },
        ],
        args,
        home.region,
      );
      progress(
        `drain: keeping up side by side (ms CPU / 1,000, this build / baseline): ${result.steadyPaired.map((r) => `${r.current.toFixed(0)}/${r.baseline.toFixed(0)}`).join(', ')}`,
      );
    }
    const dir = path.join(stateDir, 'drain-profile');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await drainWith(admin, script, args, 1, events, `bench-drain-prof-${Date.now()}`, dir);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file) result.profile = { file: path.join(dir, file), ...profileShares(path.join(dir, file)) };
    // The group drained first is at the end already: profiled, it only sees the trickle.
    const steadyDir = path.join(stateDir, 'steady-profile');
    rmSync(steadyDir, { recursive: true, force: true });
    mkdirSync(steadyDir, { recursive: true });
    await keepUpProfiled(admin, kafka, script, [...args, '--group', drainedGroup], steadyDir, home.region);
    const steadyFile = readdirSync(steadyDir).find((f) => f.endsWith('.cpuprofile'));
    if (steadyFile)
      result.steadyProfile = {
        file: path.join(steadyDir, steadyFile),
        ...profileShares(path.join(steadyDir, steadyFile)),
      };
    return result;
  } finally {
    redis.disconnect();
    await admin.disconnect().catch(() => {});
  }
}

function invalidatorArgs(home: BenchContext['home']): string[] {
  return [
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
    '--metrics-port',
    '0',
  ];
}

/** What the demo rules render for an UPDATE of users row `id`, as the reader would publish it. */
export function demoEvents(region: string, n: number, firstId = 1): InvalidationEvent[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const id = firstId + i;
    const lsn = `0/${(0x1000000 + id * 64).toString(16).toUpperCase()}`;
    return create(InvalidationEventSchema, {
      id: `${region}:${lsn}:0`,
      region,
      sourceLsn: lsn,
      primaryLsn: lsn,
      primaryCommitTime: timestampFromMs(now),
      emittedTime: timestampFromMs(now),
      table: 'public.users',
      operation: Operation.UPDATE,
      keys: [`user:${id}`, `user:${id}:profile`, `user:email:user${id}@example.com`],
      tags: [`team:${id % TEAMS}:members`],
      versions: [`ver:user:${id}`],
    });
  });
}

async function freshTopic(admin: Admin): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const old = [TOPIC, `${TOPIC}.dlq`].filter((t) => existing.has(t));
  if (old.length > 0) {
    await admin.deleteTopics({ topics: old, timeout: 30_000 });
    // Deletion is asynchronous on the broker: creating again too early fails.
    for (let i = 0; i < 100 && (await admin.listTopics()).some((t) => old.includes(t)); i++) await sleep(200);
    await sleep(1000);
  }
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 },
      { topic: `${TOPIC}.dlq`, numPartitions: 1, replicationFactor: 1 },
    ],
  });
}

async function fill(kafka: Kafka, events: readonly InvalidationEvent[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 5000) {
      const messages = events
        .slice(i, i + 5000)
        .map((e) => ({ key: eventKey(e), value: Buffer.from(toBinary(InvalidationEventSchema, e)) }));
      await producer.send({ topic: TOPIC, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * The invalidator's own command plan per chunk (batchCommandMix), sent as one pipeline per
 * chunk with IN_FLIGHT chunks outstanding: what Redis and ioredis can take for this mix.
 */
async function physicalLimit(redis: Redis, events: readonly InvalidationEvent[]): Promise<DrainResult['limit']> {
  const chunks: string[][][] = [];
  for (let i = 0; i < events.length; i += CHUNK)
    chunks.push(batchCommandMix(events.slice(i, i + CHUNK), { versionTtlMs: VERSION_TTL_MS }));
  const commands = chunks.reduce((a, c) => a + c.length, 0);
  // Loaded first, as the invalidator's NOSCRIPT retry leaves them: a refused EVALSHA is cheap.
  for (const script of BATCH_SCRIPTS) await script.load(redis);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let c = next++; c < chunks.length; c = next++) {
        const replies = await redis.pipeline(chunks[c]!).exec();
        const failed = replies?.find(([err]) => err);
        if (failed?.[0]) throw failed[0];
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { eventsPerSecond: events.length / seconds, commandsPerEvent: commands / events.length };
}

/**
 * The drained invalidator idle: one event at a time, its key set beforehand, timed from the
 * send until the key is gone. What the consumer adds to commit→applied on a quiet topic
 * (the fetch wait, the apply), without the reader's part.
 */
async function idleLatencies(kafka: Kafka, redis: Redis, after: number, region: string): Promise<number[]> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const out: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const [event] = demoEvents(region, 1, after + i + 1);
      const key = event!.keys[0]!;
      await redis.set(key, 'cached');
      // Spread over the consumer's fetch wait, so the send lands anywhere in it.
      await sleep(150 + Math.random() * 200);
      const sent = performance.now();
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: [{ key: eventKey(event!), value: Buffer.from(toBinary(InvalidationEventSchema, event!)) }],
      });
      const deadline = sent + 10_000;
      while ((await redis.exists(key)) === 1 && performance.now() < deadline) await sleep(1);
      out.push(performance.now() - sent);
    }
  } finally {
    await producer.disconnect();
  }
  return out.sort((a, b) => a - b);
}

/**
 * STEADY_RATE events/s for STEADY_SECONDS into the drained topic, a few per send as the
 * reader publishes them: the CPU a region's invalidator spends per 1,000 changes when it
 * keeps up rather than catches up (small fetches, a pipeline round and a commit per few events).
 */
async function steadyCpu(kafka: Kafka, firstId: number, region: string, ticks: () => number): Promise<number> {
  const [one] = await steadyCpuOf(kafka, firstId, region, [ticks]);
  return one!;
}

/** The trickle of steadyCpu, with the CPU of each of several processes over the same window. */
async function steadyCpuOf(
  kafka: Kafka,
  firstId: number,
  region: string,
  ticksOf: ReadonlyArray<() => number>,
): Promise<number[]> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const perSend = STEADY_RATE / 100;
    const sends = STEADY_SECONDS * 100;
    const before = ticksOf.map((ticks) => ticks());
    const started = performance.now();
    for (let i = 0; i < sends; i++) {
      const messages = demoEvents(region, perSend, firstId + i * perSend).map((e) => ({
        key: eventKey(e),
        value: Buffer.from(toBinary(InvalidationEventSchema, e)),
      }));
      await producer.send({ topic: TOPIC, acks: -1, messages });
      const due = started + (i + 1) * 10 - performance.now();
      if (due > 0) await sleep(due);
    }
    // The last events' apply and commit belong to the window too.
    await sleep(1000);
    return ticksOf.map((ticks, i) => (((ticks() - before[i]!) / CLK_TCK) * 1000 * 1000) / (sends * perSend));
  } finally {
    await producer.disconnect();
  }
}

const PAIRED_ROUNDS = 3;

/**
 * This build and the baseline, each in the group it drained (caught up first with what
 * later runs' trickles left), keeping up with one trickle at the same time, PAIRED_ROUNDS
 * times: CPU ms per 1,000 events of each, round by round.
 */
async function steadySideBySide(
  admin: Admin,
  kafka: Kafka,
  builds: ReadonlyArray<{ script: string; group: string }>,
  args: readonly string[],
  region: string,
): Promise<Array<{ current: number; baseline: number }>> {
  const workers = builds.map(({ script, group }) => startWorker(script, [...args, '--group', group]));
  const children = workers.map((w) => w.child);
  try {
    const deadline = Date.now() + 120_000;
    for (const { group } of builds)
      for (;;) {
        if (Date.now() > deadline) throw new Error(`group ${group} did not catch up in 120 s`);
        if (children.some((c) => c.exitCode !== null)) throw new Error('an invalidator exited before the paired run');
        const [g] = (await admin.describeGroups([group])).groups;
        if (
          g?.state === 'Stable' &&
          g.members.length === 1 &&
          (await committedTotal(admin, group)) >= (await topicEnd(admin))
        )
          break;
        await sleep(200);
      }
    await sleep(2000);
    const out: Array<{ current: number; baseline: number }> = [];
    for (let round = 0; round < PAIRED_ROUNDS; round++) {
      const [current, baseline] = await steadyCpuOf(
        kafka,
        6_000_000 + round * STEADY_RATE * STEADY_SECONDS,
        region,
        children.map((c) => () => processTicks(c.pid)),
      );
      out.push({ current: current!, baseline: baseline! });
    }
    return out;
  } finally {
    await stopWorkers(workers);
  }
}

/** One profiled instance on a group already at the end, while the trickle runs. */
async function keepUpProfiled(
  admin: Admin,
  kafka: Kafka,
  script: string,
  args: readonly string[],
  dir: string,
  region: string,
): Promise<void> {
  const worker = startWorker(script, args, { cpuProfDir: dir });
  const { child } = worker;
  try {
    const groupId = args[args.indexOf('--group') + 1]!;
    for (let i = 0; i < 300; i++) {
      const [group] = (await admin.describeGroups([groupId])).groups;
      if (group?.state === 'Stable' && group.members.length === 1) break;
      await sleep(100);
    }
    await sleep(2000);
    await steadyCpu(kafka, 5_000_000, region, () => processTicks(child.pid));
  } finally {
    await stopWorkers([worker]);
  }
}

const topicEnd = (admin: Admin): Promise<number> => topicEndTotal(admin, TOPIC);

const committedTotal = (admin: Admin, groupId: string): Promise<number> => groupCommittedTotal(admin, groupId, TOPIC);

/**
 * Starts `instances` invalidators in a fresh group; the window opens once the group is
 * stable with all of them and has committed something, and closes when every event is
 * committed. Events and CPU are counted inside the window only, so start-up and the
 * rebalance are left out.
 */
async function drainWith(
  admin: Admin,
  script: string,
  args: readonly string[],
  instances: number,
  events: number,
  groupId: string,
  /** `node --cpu-prof` into this directory */
  cpuProfDir?: string,
  afterDrain?: (events: number, ticks: () => number) => Promise<Partial<DrainRun>>,
): Promise<DrainRun> {
  const workers = Array.from({ length: instances }, () =>
    startWorker(script, [...args, '--group', groupId], { cpuProfDir }),
  );
  const children = workers.map((w) => w.child);
  const ticks = () => children.reduce((a, c) => a + processTicks(c.pid), 0);
  // Earlier runs' trickles are part of the backlog too.
  const total = Math.max(events, await topicEnd(admin));
  try {
    const deadline = Date.now() + 300_000;
    let start: { at: number; ticks: number; committed: number } | undefined;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`drain with ${instances} instance(s) did not finish in 300 s`);
      if (children.some((c) => c.exitCode !== null)) throw new Error('an invalidator exited during the drain');
      const committed = await committedTotal(admin, groupId);
      if (!start) {
        const [group] = (await admin.describeGroups([groupId])).groups;
        if (group?.state === 'Stable' && group.members.length === instances && committed > 0)
          start = { at: performance.now(), ticks: ticks(), committed };
      }
      if (start && committed >= total) {
        const seconds = (performance.now() - start.at) / 1000;
        const drained = committed - start.committed;
        const cpuMs = ((ticks() - start.ticks) / CLK_TCK) * 1000;
        if (drained < total / 4) throw new Error(`only ${drained} events inside the window: use more events`);
        return {
          instances,
          events: drained,
          seconds,
          eventsPerSecond: drained / seconds,
          cpuMsPer1000: (cpuMs * 1000) / drained,
          ...(await afterDrain?.(total, ticks)),
        };
      }
      await sleep(50);
    }
  } finally {
    await stopWorkers(workers);
  }
}

const LIBS: Array<[keyof ProfileShares, RegExp]> = [
  ['kafkajs', /node_modules\/kafkajs\//],
  ['ioredis', /node_modules\/(ioredis|redis-parser|@ioredis|denque|cluster-key-slot)\//],
  ['protobuf', /node_modules\/@bufbuild\//],
  ['prom-client', /node_modules\/(prom-client|tdigest|bintrees)\//],
  ['pino', /node_modules\/(pino|sonic-boom|thread-stream)/],
  ['fabric', /packages\//],
];

/** Non-idle samples by library, and the top self-time functions. */
function profileShares(file: string): { shares: ProfileShares; top: Array<{ fn: string; pct: number }> } {
  const profile = readProfile(file);
  const shares: ProfileShares = { kafkajs: 0, ioredis: 0, protobuf: 0, 'prom-client': 0, pino: 0, fabric: 0, node: 0 };
  const byFn = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const f = node.callFrame;
    if (hits === 0 || f.functionName === '(idle)' || f.functionName === '(program)') continue;
    busy += hits;
    const lib = LIBS.find(([, re]) => re.test(f.url))?.[0] ?? 'node';
    shares[lib] += hits;
    const where = f.url.replace(/^file:\/\//, '').replace(/^.*\/(packages|node_modules)\//, '$1/');
    const key = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
  }
  for (const k of Object.keys(shares) as Array<keyof ProfileShares>) shares[k] = (100 * shares[k]) / (busy || 1);
  const top = [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([fn, h]) => ({ fn, pct: (100 * h) / (busy || 1) }));
  return { shares, top };
}
