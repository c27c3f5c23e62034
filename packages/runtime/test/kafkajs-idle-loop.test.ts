import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stopKafkajsIdleLoop } from '../src/kafkajs-idle-loop.js';

const require = createRequire(import.meta.url);

interface Queue {
  throttleCheckTimeoutId: unknown;
  inflight: Map<number, unknown>;
  pending: unknown[];
  push(request: object): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(ms: number): void;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** kafkajs's own request queue of one broker connection (no socket: requests only count their sends). */
function requestQueue(): Queue {
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (opts: object) => Queue;
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: '127.0.0.1:9',
    logger: silent,
  });
}

function request(correlationId: number, sent: number[]) {
  return {
    entry: { correlationId, apiKey: 1, apiName: 'Fetch', apiVersion: 11, resolve() {}, reject() {} },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

describe("kafkajs's throttle check, with its idle loop stopped", () => {
  afterEach(() => vi.useRealTimers());

  it('applies to the kafkajs in use (another version: review whether the loop is still there)', () => {
    expect((require('kafkajs/package.json') as { version: string }).version).toBe('2.2.4');
    expect(stopKafkajsIdleLoop()).toBe(true);
  });

  it('arms no timer once a connection has nothing waiting and no throttle (2.2.4 re-armed one every 1 ms, forever)', () => {
    stopKafkajsIdleLoop();
    vi.useFakeTimers();
    const queue = requestQueue();
    const sent: number[] = [];
    queue.push(request(1, sent));
    queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1]);
    expect(queue.throttleCheckTimeoutId).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('still sends a request that waited behind the one in flight, and one held by a broker throttle once it ends', () => {
    stopKafkajsIdleLoop();
    vi.useFakeTimers();
    const queue = requestQueue();
    const sent: number[] = [];
    queue.push(request(1, sent));
    queue.push(request(2, sent));
    expect(sent).toEqual([1]);
    queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1, 2]);
    queue.fulfillRequest({ correlationId: 2, payload: null, size: 0 });

    queue.maybeThrottle(500);
    queue.push(request(3, sent));
    expect(sent).toEqual([1, 2]);
    vi.advanceTimersByTime(499);
    expect(sent).toEqual([1, 2]);
    vi.advanceTimersByTime(20);
    expect(sent).toEqual([1, 2, 3]);
    queue.fulfillRequest({ correlationId: 3, payload: null, size: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
