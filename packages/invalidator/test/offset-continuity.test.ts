import { describe, expect, it } from 'vitest';
import { describeGap, OffsetContinuity, type OffsetGap } from '../src/offset-continuity.js';

const seeded = (positions: Array<[number, bigint]>, now = 1_000) => {
  const c = new OffsetContinuity();
  c.seed(new Map(positions), now);
  return c;
};

describe('OffsetContinuity', () => {
  it('finds no gap on a partition it was never told about', () => {
    expect(new OffsetContinuity().check(0, 42n)).toBeUndefined();
    expect(seeded([[1, 10n]]).check(0, 42n)).toBeUndefined();
  });

  it('finds no gap when the batch starts where the last one ended', () => {
    expect(seeded([[0, 10n]]).check(0, 10n)).toBeUndefined();
  });

  it('reports records skipped when the batch starts past the expected offset', () => {
    expect(seeded([[2, 10n]], 5_000).check(2, 25n)).toEqual({
      partition: 2,
      expected: 10n,
      received: 25n,
      kind: 'offset-out-of-range',
      seededAt: 5_000,
    });
  });

  it('reports offsets that started over when the batch starts below the expected offset', () => {
    expect(seeded([[0, 500n]], 7).check(0, 0n)).toEqual({
      partition: 0,
      expected: 500n,
      received: 0n,
      kind: 'topic-recreated',
      seededAt: 7,
    });
  });

  it('moves the expected offset past what was applied', () => {
    const c = seeded([[0, 10n]]);
    c.advance(0, 19n);
    expect(c.check(0, 20n)).toBeUndefined();
    expect(c.check(0, 10n)?.kind).toBe('topic-recreated');
    expect(c.check(0, 21n)?.kind).toBe('offset-out-of-range');
  });

  it('starts checking a partition once something was applied on it', () => {
    const c = new OffsetContinuity();
    c.advance(3, 99n);
    expect(c.check(3, 100n)).toBeUndefined();
    expect(c.check(3, 150n)).toMatchObject({ expected: 100n, received: 150n });
  });

  it('forgets the old positions at a new seed, and stamps gaps with the seed time', () => {
    const c = seeded(
      [
        [0, 10n],
        [1, 20n],
      ],
      1,
    );
    c.advance(1, 29n);
    c.seed(new Map([[0, 50n]]), 2);
    expect(c.check(1, 0n)).toBeUndefined();
    expect(c.check(0, 10n)).toMatchObject({ expected: 50n, kind: 'topic-recreated', seededAt: 2 });
    c.seed(new Map(), 3);
    expect(c.check(0, 10n)).toBeUndefined();
  });
});

describe('describeGap', () => {
  const gap = (fields: Partial<OffsetGap>): OffsetGap => ({
    partition: 4,
    expected: 100n,
    received: 250n,
    kind: 'offset-out-of-range',
    seededAt: 0,
    ...fields,
  });

  it('names the topic, partition and the records never applied when retention passed', () => {
    const text = describeGap('fabric.inval.eu-west', gap({}));
    expect(text).toContain('fabric.inval.eu-west[4]');
    expect(text).toContain('offset 100');
    expect(text).toContain('starts at 250');
    expect(text).toContain('records 100..249 were never applied');
    expect(text).toMatch(/retention/);
  });

  it('names both offsets when the partition restarted below the expected one', () => {
    const text = describeGap('t', gap({ kind: 'topic-recreated', expected: 500n, received: 0n, partition: 0 }));
    expect(text).toContain('t[0]');
    expect(text).toContain('offset 500');
    expect(text).toContain('restarts at 0');
    expect(text).toMatch(/deleted and created again/);
    expect(text).not.toContain('never applied');
  });
});
