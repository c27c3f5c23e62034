import { create, ListDeadLettersRequestSchema } from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { RegionConfig } from '../src/config.js';
import { ScanSlots } from '../src/dead-letter-scans.js';
import { deadLetterHandlers } from '../src/dead-letter-service.js';
import type { CallContext } from '../src/grpc-service.js';
import { ControlPlaneMetrics } from '../src/metrics.js';
import type { RegionConnection, RegionConnections } from '../src/region-connections.js';
import { RegionDirectory } from '../src/regions.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const region = { name: 'eu-west', deadLetterTopic: 'fabric.inval.eu-west.dlq' } as RegionConfig;

/** A region whose DLQ offsets arrive when the test says so, and hold no dead letter. */
function blockedRegion() {
  const gates: Array<ReturnType<typeof deferred>> = [];
  const connection = {
    config: region,
    kafka: {
      admin: async () => {
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
        return [{ partition: 0, low: '0', high: '0' }];
      },
    },
    ledger: { refresh: async () => undefined, pending: () => 0n },
    scanner: { scan: async () => 0n },
  } as unknown as RegionConnection;
  const connections = { get: () => connection } as unknown as RegionConnections;
  return { connections, gates };
}

const ctx = (): CallContext =>
  ({
    path: '/fabric.v1.DeadLetterService/ListDeadLetters',
    principal: { name: 'ops', scopes: new Set(['read', 'admin']) },
    signal: new AbortController().signal,
  }) as unknown as CallContext;

describe('dead-letter scan slots', () => {
  it('refuses a call beyond the limit with RESOURCE_EXHAUSTED and takes the next once one ends', async () => {
    const { connections, gates } = blockedRegion();
    const slots = new ScanSlots(2);
    const handlers = deadLetterHandlers({
      regions: new RegionDirectory([region]),
      connections,
      metrics: new ControlPlaneMetrics(),
      logger: pino({ level: 'silent' }),
      scanSlots: slots,
    });
    const request = create(ListDeadLettersRequestSchema, { region: 'eu-west' });
    const first = handlers.listDeadLetters(request, ctx());
    const second = handlers.listDeadLetters(request, ctx());
    await expect(handlers.listDeadLetters(request, ctx())).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      message: expect.stringContaining('2 dead-letter scans are already running'),
    });
    expect(slots.inUse).toBe(2);
    await new Promise((r) => setImmediate(r));
    gates.forEach((g) => g.resolve());
    await expect(first).resolves.toMatchObject({ pending: 0n });
    await second;
    expect(slots.inUse).toBe(0);
    const third = handlers.listDeadLetters(request, ctx());
    await new Promise((r) => setImmediate(r));
    gates.at(-1)!.resolve();
    await expect(third).resolves.toMatchObject({ deadLetters: [] });
  });

  it('takes a slot back once, however often it is released', () => {
    const slots = new ScanSlots(1);
    const release = slots.acquire('x');
    expect(() => slots.acquire('y')).toThrow(/RESOURCE_EXHAUSTED|already running/);
    release();
    release();
    expect(slots.inUse).toBe(0);
  });
});
