import { describe, expect, it } from 'vitest';
import { originOf, renderFindings, workerFinding } from '../src/findings.js';
import type { ProfileResult } from '../src/profile-result.js';

const reader = {
  file: '/tmp/r.cpuprofile',
  top: [
    { fn: '(idle)', pct: 84.8, ms: 13536 },
    { fn: '(garbage collector)', pct: 1.1, ms: 174 },
    { fn: '(program)', pct: 0.8, ms: 124 },
    { fn: 'wrapSafe node:internal/modules/cjs/loader:1422', pct: 0.5, ms: 79 },
    { fn: 'writeBuffer', pct: 0.5, ms: 73 },
    { fn: 'renderChange packages/cdc-reader/dist/rules/render.js:73', pct: 0.3, ms: 43 },
    { fn: 'scheduleCheckPendingRequests node_modules/kafkajs/src/network/requestQueue/index.js:306', pct: 0.2, ms: 37 },
    { fn: 'placeholders packages/cdc-reader/dist/rules/template.js:51', pct: 0.2, ms: 39 },
  ],
};

describe('profile findings', () => {
  it('classifies entries by where they run', () => {
    expect(originOf('(idle)')).toBe('idle');
    expect(originOf('(garbage collector)')).toBe('gc');
    expect(originOf('(program)')).toBe('program');
    expect(originOf('renderChange packages/cdc-reader/dist/rules/render.js:73')).toBe('own');
    expect(originOf('(anonymous) node_modules/kafkajs/src/network/requestQueue/index.js:317')).toBe('dependency');
    expect(originOf('processTimers node:internal/timers:504')).toBe('node');
    expect(originOf('writeBuffer')).toBe('native');
    expect(originOf('main /tmp/x.js:3')).toBe('other');
  });

  it('reads a mostly idle worker as waiting, and names its hottest code', () => {
    const line = workerFinding('reader', reader);
    expect(line).toMatch(/^\* \*\*reader\*\*: 84\.8 % idle — its own CPU is not what limits latency/);
    expect(line).toContain(
      'Top self time: `(garbage collector)` 1.1 %, `(program)` 0.8 %, `wrapSafe node:internal/modules/cjs/loader:1422` 0.5 %.',
    );
    expect(line).toContain(
      'Hottest in our code: `renderChange packages/cdc-reader/dist/rules/render.js:73` 0.3 %, `placeholders packages/cdc-reader/dist/rules/template.js:51` 0.2 %',
    );
    expect(line).toContain('GC 1.1 %, not a concern.');
    expect(line.split('\n')).toHaveLength(1);
  });

  it('reads a busy worker as CPU-bound and flags heavy GC', () => {
    const line = workerFinding('invalidator', {
      file: 'x',
      top: [
        { fn: '(idle)', pct: 5, ms: 50 },
        { fn: 'plan packages/invalidator/dist/redis-applier.js:80', pct: 40, ms: 400 },
        { fn: '(garbage collector)', pct: 15, ms: 150 },
      ],
    });
    expect(line).toContain('CPU-bound');
    expect(line).toContain('GC 15.0 %: allocation pressure worth reducing.');
  });

  it('renders one bullet per worker, reports a missing profile and an under-loaded writer', () => {
    const P: ProfileResult = {
      rate: 2000,
      achievedRate: 620,
      dir: '/tmp/p',
      reader,
      invalidator: { error: 'no .cpuprofile written (worker did not exit cleanly)' },
    };
    const lines = renderFindings(P);
    expect(lines[0]).toBe('### Findings (generated from the profile above)');
    expect(lines.filter((l) => l.startsWith('* '))).toHaveLength(3);
    expect(lines).toContain('* **invalidator**: no profile (no .cpuprofile written (worker did not exit cleanly)).');
    expect(lines.at(-1)).toContain('achieved 620 of the 2000/s');
  });
});
