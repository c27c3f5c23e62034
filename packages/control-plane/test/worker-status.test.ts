import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchWorkerStatus, readInvalidatorStatus, readReaderStatus } from '../src/probes/worker-status.js';

/** A local stand-in for worker /healthz endpoints: the path picks the answer. */
let server: http.Server;
let base: string;
const answers: Record<string, { code: number; body: string; delayMs?: number }> = {
  '/healthy': {
    code: 200,
    body: JSON.stringify({
      ok: true,
      component: 'invalidator',
      redis: 'up',
      lastAppliedCommitTime: '2024-05-01T12:00:00.000Z',
      latencyMs: { p50: 12.5, p99: null, count: 3 },
    }),
  },
  '/redis-down': {
    code: 200,
    body: JSON.stringify({
      ok: true,
      redis: 'down',
      lastAppliedCommitTime: '2024-05-01T11:59:00.000Z',
      latencyMs: { p50: null, p99: null, count: 0 },
    }),
  },
  '/503': { code: 503, body: JSON.stringify({ ok: false, detail: 'replication stream closed', pending: 4 }) },
  '/garbage': { code: 200, body: '<html>' },
  '/slow': { code: 200, body: '{"ok":true}', delayMs: 1_000 },
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const a = answers[req.url ?? ''] ?? { code: 404, body: '' };
    setTimeout(() => res.writeHead(a.code, { 'content-type': 'application/json' }).end(a.body), a.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('fetchWorkerStatus', () => {
  it('reads an invalidator that answers healthy', async () => {
    const o = await fetchWorkerStatus(`${base}/healthy`, 500, readInvalidatorStatus);
    expect(o).toEqual({
      status: 'healthy',
      value: {
        redis: 'up',
        lastAppliedCommitTime: new Date('2024-05-01T12:00:00Z'),
        latencyP50Ms: 12.5,
        latencyP99Ms: undefined,
        latencyCount: 3,
        latencyWindowSeconds: undefined,
      },
    });
  });

  it('calls an invalidator without Redis unhealthy but keeps how far it got', async () => {
    const o = await fetchWorkerStatus(`${base}/redis-down`, 500, readInvalidatorStatus);
    expect(o).toMatchObject({
      status: 'unhealthy',
      detail: 'HTTP 200, redis down',
      value: { lastAppliedCommitTime: new Date('2024-05-01T11:59:00Z') },
    });
  });

  it('reports a 503 with the worker own reason', async () => {
    const o = await fetchWorkerStatus(`${base}/503`, 500, readReaderStatus);
    expect(o).toMatchObject({
      status: 'unhealthy',
      detail: 'HTTP 503, ok=false, replication stream closed',
      value: { pending: 4, lastEventAt: undefined },
    });
  });

  it('is unhealthy, without numbers, when the answer is not JSON', async () => {
    expect(await fetchWorkerStatus(`${base}/garbage`, 500, readReaderStatus)).toMatchObject({
      status: 'unhealthy',
      detail: expect.stringContaining('unreadable status'),
    });
  });

  it('is unreachable when nothing listens or the answer is too slow', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await fetchWorkerStatus(`http://127.0.0.1:${port}/healthz`, 500, readReaderStatus)).toMatchObject({
      status: 'unreachable',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
    const started = Date.now();
    expect((await fetchWorkerStatus(`${base}/slow`, 200, readReaderStatus)).status).toBe('unreachable');
    expect(Date.now() - started).toBeLessThan(900);
  });
});
