import { describe, expect, it } from 'vitest';
import { carryOver, markSection, replaceSection } from '../src/report-section.js';
import { distribution, formatHistogram, ratio } from '../src/sdk/distribution.js';

describe('count distributions', () => {
  it('summarizes loads per trial', () => {
    const d = distribution([4, 1, 4, 4, 2]);
    expect(d).toMatchObject({ trials: 5, min: 1, median: 4, max: 4, mean: 3 });
    expect(formatHistogram(d)).toBe('1×1, 2×1, 4×3');
    expect(distribution([])).toMatchObject({ trials: 0, median: null });
    expect(formatHistogram(distribution([]))).toBe('n/a');
  });
  it('ratios ours / theirs, n/a when either is missing or theirs is 0', () => {
    expect(ratio(1, 4)).toBe('0.25×');
    expect(ratio(0, 1000)).toBe('0.00×');
    expect(ratio(1, 0)).toBe('n/a');
    expect(ratio(undefined, 1)).toBe('n/a');
  });
});

describe('report sections', () => {
  it('replaces its own section and keeps the rest', () => {
    const doc = `# Benchmarks\n\nA\n\n${markSection('sdk', 'old')}\n\nB\n`;
    const next = replaceSection(doc, 'sdk', 'new\n');
    expect(next).toBe(`# Benchmarks\n\nA\n\n<!-- bench:sdk -->\nnew\n<!-- /bench:sdk -->\n\nB\n`);
  });
  it("carries a phase's section of the previous report into a full run's, unless the run wrote its own", () => {
    const previous = `# Old\n\n${markSection('drain', 'drained')}\n\n${markSection('sdk', 'old sdk')}\n`;
    const report = `# New\n\n${markSection('sdk', 'new sdk')}\n`;
    const next = carryOver(report, previous, ['drain', 'sdk', 'keep-up']);
    expect(next).toBe(
      '# New\n\n<!-- bench:sdk -->\nnew sdk\n<!-- /bench:sdk -->\n\n<!-- bench:drain -->\ndrained\n<!-- /bench:drain -->\n',
    );
  });
  it('appends the section to a document without it', () => {
    expect(replaceSection('# Benchmarks\n', 'sdk', 'x')).toBe(
      '# Benchmarks\n\n<!-- bench:sdk -->\nx\n<!-- /bench:sdk -->\n',
    );
  });
});

describe('the SDK section', () => {
  it('puts each of ours beside its like and says what failed', async () => {
    const { renderSdk } = await import('../src/sdk/report.js');
    const hit = (p50Us: number) => ({
      p50Us,
      p99Us: p50Us * 2,
      samples: 10,
      opsPerSecond: 1,
      opsPerCpuSecond: 1,
      concurrency: 32,
    });
    const stamp = (loads: number[]) => ({
      processes: 4,
      concurrency: 50,
      trials: loads.length,
      loadMs: 50,
      loads,
      errors: 0,
    });
    const text = renderSdk(
      {
        hits: { fabric: hit(60), 'fabric-l1': hit(5), 'bentocache-l2': hit(80), 'bentocache-l1': hit(10) },
        stampede: {
          fabric: stamp([1, 1]),
          'fabric-l1': stamp([1, 2]),
          'bentocache-l2': stamp([4, 4]),
          'bentocache-l1': stamp([4, 4]),
        },
        forced: { keys: 10, perContender: {} },
        driven: { rate: 1, seconds: 1, readers: 1, graceMs: 1, hotKeys: 1, achievedRate: 1, perContender: {} },
        l1: {},
        errors: ['driven race: boom'],
      },
      'npm run bench -- --phase sdk',
    ).join('\n');
    expect(text).toContain(
      '| measure | fabric | fabric-l1 | bentocache-l2 | bentocache-l1 | fabric / bentocache-l2 | fabric-l1 / bentocache-l1 |',
    );
    expect(text).toContain('| warm hit p50 µs (one caller) | 60 | 5 | 80 | 10 | 0.75× | 0.50× |');
    expect(text).toContain('| stampede: database loads per trial, max | 1 | 2 | 4 | 4 | 0.25× | 0.50× |');
    expect(text).toContain('- driven race: boom');
    expect(renderSdk({ error: 'boom' }, 'x').join('\n')).toContain('Failed: boom');
  });
});
