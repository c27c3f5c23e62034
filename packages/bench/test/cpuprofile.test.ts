import type { Profiler } from 'node:inspector';
import { describe, expect, it } from 'vitest';
import { topSelfTime } from '../src/cpuprofile.js';

const node = (
  id: number,
  functionName: string,
  url: string,
  lineNumber: number,
  hitCount: number,
): Profiler.ProfileNode => ({
  id,
  hitCount,
  callFrame: { functionName, url, lineNumber, columnNumber: 0, scriptId: '0' },
});

describe('cpuprofile', () => {
  it('puts idle first and ranks the rest by self time, with paths relative to packages/ and node_modules/', () => {
    const profile: Profiler.Profile = {
      startTime: 0,
      endTime: 1_000_000, // 1 s in µs
      nodes: [
        node(1, '(idle)', '', -1, 50),
        node(2, 'plan', 'file:///srv/checkout/packages/invalidator/dist/redis-applier.js', 79, 30),
        node(3, 'plan', 'file:///srv/checkout/packages/invalidator/dist/redis-applier.js', 79, 10),
        node(4, '', 'file:///srv/checkout/node_modules/kafkajs/src/index.js', 0, 10),
      ],
    };
    expect(topSelfTime(profile)).toEqual([
      { fn: '(idle)', pct: 50, ms: 500 },
      { fn: 'plan packages/invalidator/dist/redis-applier.js:80', pct: 40, ms: 400 },
      { fn: '(anonymous) node_modules/kafkajs/src/index.js:1', pct: 10, ms: 100 },
    ]);
  });
});
