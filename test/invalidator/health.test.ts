import { type ChildProcess, spawn } from 'node:child_process';
import { pingRedis } from '@fabric/sandbox';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support.js';
import { type InvalidatorUnderTest, invalidatorFor } from './harness.js';

/** A Redis of this file's own (port 28720), so taking it away touches no other test. */
const PORT = 28720;
/** Shorter than the 10 s default so the test is quick; long enough to tell "at once" from "after the grace". */
const GRACE_MS = 3_000;

interface Answer {
  code: number;
  body: Record<string, unknown>;
}

describe("an invalidator's /healthz while its Redis goes away and comes back", () => {
  const region = inject('endpoints').regions[0]!;
  let server: ChildProcess | undefined;
  let output = '';
  let inv: InvalidatorUnderTest;

  const startRedis = async () => {
    output = '';
    server = spawn(
      'redis-server',
      ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    server.stdout!.on('data', keep);
    server.stderr!.on('data', keep);
    try {
      await eventually('redis up', async () => ((await pingRedis('127.0.0.1', PORT)) === 'PONG' ? true : undefined));
    } catch (err) {
      throw new Error(`${(err as Error).message}\nredis-server said:\n${output || '(nothing)'}`, { cause: err });
    }
  };
  const stopRedis = async () => {
    const s = server!;
    if (s.exitCode === null && s.signalCode === null) {
      const exited = new Promise((resolve) => s.once('exit', resolve));
      s.kill('SIGKILL');
      await exited;
    }
  };
  const healthz = async (): Promise<Answer> => {
    const res = await fetch(`http://127.0.0.1:${inv.metricsPort}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return { code: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    await startRedis();
    inv = await invalidatorFor(region, {
      name: 'health',
      redisUrl: `redis://127.0.0.1:${PORT}`,
      extraArgs: ['--health-grace-ms', String(GRACE_MS)],
    });
    await inv.start();
  });
  afterAll(async () => {
    await inv?.dispose();
    if (server) await stopRedis();
  });

  it('answers 200, then 503 with the reason and its numbers once Redis has been gone past the grace period, then 200 again', async () => {
    const healthy = await eventually('200 while Redis is up', async () => {
      const a = await healthz();
      return a.code === 200 ? a : undefined;
    });
    expect(healthy.body).toMatchObject({ ok: true, redis: 'up', component: 'invalidator' });
    expect(healthy.body).not.toHaveProperty('detail');

    await stopRedis();
    const stopped = Date.now();
    // Within the grace period a lost connection is a blip the retries absorb.
    expect((await healthz()).code).toBe(200);

    const unhealthy = await eventually('503 after the grace period', async () => {
      const a = await healthz();
      return a.code === 503 ? a : undefined;
    });
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(GRACE_MS);
    expect(unhealthy.body).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^redis not ready for \d+ s$/),
      component: 'invalidator',
      region: region.region,
      groupId: inv.groupId,
      topic: inv.topic,
      redis: 'down',
      assigned: expect.any(Array),
      latencyMs: expect.objectContaining({ count: expect.any(Number) }),
      applied: expect.any(Number),
      deadLettered: expect.any(Number),
      retries: expect.any(Number),
      partitions: expect.any(Array),
    });
    expect((unhealthy.body.assigned as number[]).length).toBeGreaterThan(0);

    await startRedis();
    const recovered = await eventually('200 once Redis is back', async () => {
      const a = await healthz();
      return a.code === 200 ? a : undefined;
    });
    expect(recovered.body).toMatchObject({ ok: true, redis: 'up' });
    expect(recovered.body).not.toHaveProperty('detail');
  }, 120_000);
});
