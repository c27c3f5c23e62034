import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support.js';
import { type ReaderUnderTest, readerFor } from './harness.js';

const METRICS_PORT = 27992;

async function answer(route: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${METRICS_PORT}${route}`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: await res.text() };
}

/**
 * Creating a slot waits for every transaction running at the primary to end, which can take
 * as long as the longest one. A liveness probe that finds nothing listening then restarts the
 * reader, which waits again from the start: it never gets its slot. The reader listens from
 * its first step and says which step it is on.
 */
describe('a reader waiting for its slot', () => {
  const home = inject('endpoints').regions.find((r) => r.home)!;
  let reader: ReaderUnderTest | undefined;
  const holder = new pg.Client({ connectionString: home.postgres.url });

  afterAll(async () => {
    await holder.end().catch(() => undefined);
    await reader?.dispose();
  });

  it('answers /metrics and a 503 /healthz naming the step while a transaction holds slot creation', async () => {
    await holder.connect();
    await holder.query('begin');
    // An xid of its own: slot creation waits for transactions that have one.
    await holder.query('select pg_current_xact_id()');

    reader = await readerFor(home, { name: 'slotwait', extraArgs: ['--metrics-port', String(METRICS_PORT)] });
    const streaming = reader.start();
    const waiting = await eventually('the waiting reader answers', async () => {
      const health = await answer('/healthz').catch(() => undefined);
      return health?.status === 503 && health.body.includes('slot') ? health : undefined;
    });
    expect(JSON.parse(waiting.body)).toMatchObject({ ok: false, detail: expect.stringMatching(/^starting: /) });
    expect((await answer('/metrics')).status).toBe(200);
    expect(reader.exitCode()).toBeNull();

    await holder.query('commit');
    await streaming;
    const healthy = await eventually('healthy once streaming', async () => {
      const health = await answer('/healthz');
      return health.status === 200 ? health : undefined;
    });
    expect(JSON.parse(healthy.body)).toMatchObject({ ok: true });
  }, 60_000);
});
