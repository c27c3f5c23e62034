import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create, DeadLetterSchema, InvalidationEventSchema, Operation, toBinary } from '@fabric/proto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createTopics,
  type RunningControlPlane,
  readRecords,
  startTestControlPlane,
  type TestTopics,
  TOKENS,
  testConfig,
  topicEnds,
} from './harness.js';

const PORT = 31004;
const CLI = path.resolve('packages/cli/dist/bin.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the fabric CLI as a user would, without the caller's control-plane environment. */
function fabric(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { FABRIC_CONTROL_PLANE: _a, FABRIC_TOKEN: _b, FABRIC_STATE_DIR: _c, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('fabric lag / dlq / invalidate / resync', () => {
  const endpoints = inject('endpoints');
  const west = endpoints.regions.find((r) => r.region === 'eu-west')!;
  const east = endpoints.regions.find((r) => r.region === 'us-east')!;
  let topics: Map<string, TestTopics>;
  let cp: RunningControlPlane;
  let server: string[];

  beforeAll(async () => {
    topics = await createTopics(endpoints.regions, 'cli');
    const original = create(InvalidationEventSchema, {
      id: 'eu-west:0/9:0',
      region: 'eu-west',
      operation: Operation.UPDATE,
      keys: ['user:9'],
    });
    const producer = new Kafka({ brokers: west.kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic: topics.get('eu-west')!.deadLetterTopic,
      messages: [
        {
          value: Buffer.from(
            toBinary(
              DeadLetterSchema,
              create(DeadLetterSchema, {
                region: 'eu-west',
                component: 'invalidator',
                reason: 'Redis timeout',
                original: toBinary(InvalidationEventSchema, original),
              }),
            ),
          ),
        },
        {
          value: Buffer.from(
            toBinary(
              DeadLetterSchema,
              create(DeadLetterSchema, {
                region: 'eu-west',
                component: 'cdc-reader',
                reason: 'column email missing',
                table: 'public.users',
              }),
            ),
          ),
        },
      ],
    });
    await producer.disconnect();
    cp = await startTestControlPlane(await testConfig({ port: PORT, topics }));
    server = ['--server', cp.address];
  });
  afterAll(() => cp?.stop());

  it.each([['lag'], ['dlq'], ['dlq', 'ls'], ['dlq', 'replay'], ['invalidate'], ['resync']])(
    'explains itself with --help: %s',
    async (...command) => {
      const run = await fabric([...command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: fabric /);
    },
  );

  it('prints lag as JSON, leaving out what nobody measured, and exits 1 while a region is not healthy', async () => {
    const run = await fabric(['lag', ...server, '--token', TOKENS.read, '--region', 'eu-west', '--json']);
    expect(run.code).toBe(1);
    const [lag] = JSON.parse(run.stdout).regions as Array<
      Record<string, unknown> & { components: Array<Record<string, unknown>> }
    >;
    expect(lag).toMatchObject({
      region: 'eu-west',
      status: 'REGION_STATUS_DEGRADED',
      kafkaLagTotal: '0',
      deadLetters: '2',
    });
    expect(lag!.components.find((c) => c.component === 'invalidator')).toMatchObject({
      status: 'COMPONENT_STATUS_UNREACHABLE',
    });
    expect(lag).not.toHaveProperty('freshnessSeconds');
    expect(lag).not.toHaveProperty('latencyP99Ms');
  });

  it('prints lag as a table with ? for unknown values', async () => {
    const run = await fabric(['lag', ...server], { FABRIC_TOKEN: TOKENS.read });
    const row = run.stdout.split('\n').find((l) => l.startsWith('ap-south'))!;
    expect(row).toMatch(
      /^ap-south\s+degraded\s+\S+ B \/ \S+\s+\?\s+0\s+\?\s+\? \/ \?\s+0\s+\?\s+cdc-reader unreachable \(never seen\); invalidator unreachable \(never seen\)/,
    );
  });

  it('invalidates through the region topics and prints what it published', async () => {
    const run = await fabric(
      ['invalidate', ...server, '--region', 'us-east,eu-west', '--key', 'user:1', '--tag', 'team:2:members', '--json'],
      { FABRIC_TOKEN: TOKENS.admin },
    );
    expect(run.code).toBe(0);
    const response = JSON.parse(run.stdout) as {
      requestId: string;
      regions: Array<{ region: string; eventIds: string[] }>;
    };
    expect(response.regions.map((r) => [r.region, r.eventIds])).toEqual([
      ['us-east', [`manual:${response.requestId}:0`, `manual:${response.requestId}:1`]],
      ['eu-west', [`manual:${response.requestId}:0`, `manual:${response.requestId}:1`]],
    ]);
    expect((await readRecords(west, topics.get('eu-west')!.topic, 2)).map((r) => r.key).sort()).toEqual([
      'team:2:members',
      'user:1',
    ]);
  });

  it('prints a refused request as one line and exits 2', async () => {
    const wildcard = await fabric([
      'invalidate',
      ...server,
      '--token',
      TOKENS.admin,
      '--region',
      'us-east',
      '--pattern',
      '*',
    ]);
    expect(wildcard.code).toBe(2);
    expect(wildcard.stderr).toMatch(
      /^fabric: INVALID_ARGUMENT: patterns\[0\]: "\*" has no literal prefix.*or set force\)\n$/,
    );
    const readOnly = await fabric([
      'invalidate',
      ...server,
      '--token',
      TOKENS.read,
      '--region',
      'us-east',
      '--key',
      'k',
    ]);
    expect(readOnly.code).toBe(2);
    expect(readOnly.stderr).toMatch(/^fabric: PERMISSION_DENIED: .*"admin" scope/);
    const usage = await fabric(['invalidate', ...server, '--token', TOKENS.admin, '--key', 'k']);
    expect([usage.code, usage.stderr]).toEqual([
      2,
      'fabric: --region is required: name the regions to invalidate in\n',
    ]);
  });

  it('lists dead letters and replays them with progress on stderr; a second replay skips', async () => {
    const ls = await fabric(['dlq', 'ls', ...server, '--token', TOKENS.read, '--region', 'eu-west']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/eu-west\s+0\s+0\s+\S+\s+invalidator\s+-\s+pending\s+Redis timeout/);
    expect(ls.stdout).toMatch(
      /eu-west\s+0\s+1\s+\S+\s+cdc-reader\s+public\.users\s+not replayable\s+column email missing/,
    );
    expect(ls.stdout).toContain('2 dead letter(s) pending (neither replayed nor resolved) in eu-west');

    const dry = await fabric(['dlq', 'replay', ...server, '--token', TOKENS.admin, '--region', 'eu-west', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain('replay: scanned 2/2, would replay 1, skipped 0, not replayable 1 (done)');
    expect(dry.stdout).toContain('eu-west: would replay 1, skipped 0');
    expect(dry.stdout).toMatch(/not replayable: partition 0 offset 1: no original event \(cdc-reader\)/);

    const first = await fabric([
      'dlq',
      'replay',
      ...server,
      '--token',
      TOKENS.admin,
      '--region',
      'eu-west',
      '--from-offset',
      '0',
      '--json',
    ]);
    expect(JSON.parse(first.stdout)).toMatchObject({ done: true, replayed: '1', skipped: '0', notReplayable: '1' });
    const second = await fabric(['dlq', 'replay', ...server, '--token', TOKENS.admin, '--region', 'eu-west']);
    expect(second.stdout).toContain('eu-west: replayed 0, skipped 1');

    // The reader-side one cannot be replayed: an operator resolves it, and it leaves the depth.
    const noNote = await fabric(['dlq', 'resolve', ...server, '--token', TOKENS.admin, '--region', 'eu-west']);
    expect([noNote.code, noNote.stderr]).toEqual([
      2,
      'fabric: --note is required: say why these dead letters need no replay (it is recorded)\n',
    ]);
    const resolveArgs = ['dlq', 'resolve', ...server, '--region', 'eu-west', '--note', 'key rules fixed in v2'];
    const readResolve = await fabric([...resolveArgs, '--token', TOKENS.read]);
    expect(readResolve.stderr).toMatch(/^fabric: PERMISSION_DENIED: .*"admin" scope/);
    const dryResolve = await fabric([...resolveArgs, '--token', TOKENS.admin, '--dry-run']);
    expect(dryResolve.stdout).toContain('eu-west: would resolve 1, skipped 1 (already replayed or resolved)');
    const resolved = await fabric([...resolveArgs, '--token', TOKENS.admin, '--json']);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ done: true, resolved: '1', skipped: '1' });
    const after = await fabric(['dlq', 'ls', ...server, '--token', TOKENS.admin, '--region', 'eu-west']);
    expect(after.stdout).toMatch(/eu-west\s+0\s+0\s+.*\s+replayed\s+Redis timeout/);
    expect(after.stdout).toMatch(/eu-west\s+0\s+1\s+.*\s+resolved\s+key rules fixed in v2 \(resolved by test-admin\)/);
    expect(after.stdout).toContain('0 dead letter(s) pending');
    const help = await fabric(['dlq', 'resolve', '--help']);
    expect(help.stdout).toContain('--note TEXT');

    const mixed = await fabric([
      'dlq',
      'replay',
      ...server,
      '--token',
      TOKENS.admin,
      '--region',
      'eu-west',
      '--from-offset',
      '0',
      '--since',
      '1h',
    ]);
    expect([mixed.code, mixed.stderr]).toEqual([
      2,
      'fabric: choose one range: --partition/--from-offset/--to-offset or --since/--until\n',
    ]);
  });

  it('resyncs a region, one copy per partition, and prints what it published', async () => {
    const topic = topics.get('us-east')!.topic;
    const before = await topicEnds(east, topic);
    const run = await fabric(['resync', ...server, '--region', 'us-east', '--reason', 'cli test', '--json'], {
      FABRIC_TOKEN: TOKENS.admin,
    });
    expect([run.code, run.stderr]).toEqual([0, '']);
    const response = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(response).toEqual({
      region: 'us-east',
      topic,
      resyncId: expect.stringMatching(/^us-east:resync:operator:\d+$/),
      copies: 3,
    });
    expect(await topicEnds(east, topic)).toEqual(before.map((end) => end + 1n));
    const text = await fabric(['resync', ...server, '--token', TOKENS.admin, '--region', 'us-east']);
    expect(text.stdout).toMatch(
      /^us-east: resync us-east:resync:operator:\d+ published to fabric\.inval\.us-east\.cli-\S+ \(3 partition\(s\)\)/,
    );
    const readOnly = await fabric(['resync', ...server, '--token', TOKENS.read, '--region', 'us-east']);
    expect(readOnly.code).toBe(2);
    expect(readOnly.stderr).toMatch(/^fabric: PERMISSION_DENIED: .*"admin" scope/);
  });

  it('talks to the running sandbox with its admin token by default', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'fabric-cli-defaults-'));
    try {
      const [host, port] = cp.address.split(':');
      // What a running `fabric up` leaves: its state (this process stands in as the live owner) and tokens.
      writeFileSync(
        path.join(stateDir, 'sandbox.json'),
        JSON.stringify({
          pid: process.pid,
          readyAt: new Date().toISOString(),
          endpoints: { ...endpoints, controlPlane: { host, port: Number(port), metricsPort: 0 } },
        }),
      );
      mkdirSync(path.join(stateDir, 'control-plane'));
      writeFileSync(
        path.join(stateDir, 'control-plane', 'tokens.json'),
        JSON.stringify({ read: TOKENS.read, admin: TOKENS.admin }),
      );
      const run = await fabric(['invalidate', '--region', 'ap-south', '--key', 'user:5'], {
        FABRIC_STATE_DIR: stateDir,
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^ap-south: 1 event\(s\) published to fabric\.inval\.ap-south\.cli-/);
      const none = await fabric(['lag', '--state-dir', path.join(stateDir, 'nothing-here')]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(
        /^fabric: no control plane to talk to: pass --server HOST:PORT or set FABRIC_CONTROL_PLANE/,
      );
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
