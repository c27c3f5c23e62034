import { describe, expect, it } from 'vitest';
import {
  bigIntToLsn,
  compareLsn,
  hex16ToLsn,
  isLsn,
  laterLsn,
  lsnDiff,
  lsnFromHalves,
  lsnReached,
  lsnToBigInt,
  lsnToHex16,
  maxLsn,
  normalizeLsn,
  ZERO_LSN,
} from '../src/lsn.js';

describe('lsn', () => {
  it('parses "X/Y" into the 64-bit position', () => {
    expect(lsnToBigInt('0/0')).toBe(0n);
    expect(lsnToBigInt('0/16B3748')).toBe(0x16b3748n);
    expect(lsnToBigInt('1/0')).toBe(0x1_0000_0000n);
    expect(lsnToBigInt('FFFFFFFF/FFFFFFFF')).toBe(0xffff_ffff_ffff_ffffn);
    expect(lsnToBigInt('a/bc')).toBe(0xa_0000_00bcn);
  });

  it('formats like PostgreSQL: upper-case hex, no padding', () => {
    expect(bigIntToLsn(0n)).toBe('0/0');
    expect(bigIntToLsn(0x16b3748n)).toBe('0/16B3748');
    expect(bigIntToLsn(0x2_0000_00abn)).toBe('2/AB');
    expect(bigIntToLsn(0xffff_ffff_ffff_ffffn)).toBe('FFFFFFFF/FFFFFFFF');
    expect(ZERO_LSN).toBe('0/0');
  });

  it('round-trips and normalizes', () => {
    for (const v of [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0x1234_5678_9abc_def0n])
      expect(lsnToBigInt(bigIntToLsn(v))).toBe(v);
    expect(normalizeLsn('0/000016b3')).toBe('0/16B3');
  });

  it('compares numerically, not as strings', () => {
    expect(compareLsn('0/9', '0/10')).toBe(-1);
    expect(compareLsn('0/FFFFFFFF', '1/0')).toBe(-1);
    expect(compareLsn('1/0', '0/FFFFFFFF')).toBe(1);
    expect(compareLsn('0/AB', '0/ab')).toBe(0);
    expect(['1/0', '0/10', '0/9'].sort(compareLsn)).toEqual(['0/9', '0/10', '1/0']);
    expect(maxLsn('0/10', '0/9')).toBe('0/10');
    expect(lsnDiff('1/0', '0/FFFFFFF0')).toBe(16n);
  });

  it('compares by halves exactly as the 64-bit positions compare', () => {
    const positions = [0n, 1n, 0xffn, 0xffff_ffffn, 0x1_0000_0000n, 0x1_0000_0001n, 0xab_cdef_0123n, U64_MAX];
    for (const a of positions)
      for (const b of positions) expect(compareLsn(bigIntToLsn(a), bigIntToLsn(b))).toBe(a < b ? -1 : a > b ? 1 : 0);
  });

  it('keeps the later of two, the first possibly absent, and tells whether a target is reached', () => {
    expect(laterLsn(undefined, '0/9')).toBe('0/9');
    expect(laterLsn('0/10', '0/9')).toBe('0/10');
    expect(laterLsn('0/9', '1/0')).toBe('1/0');
    expect(lsnReached('0/10', '0/9')).toBe(true);
    expect(lsnReached('0/10', '0/10')).toBe(true);
    expect(lsnReached('0/9', '0/10')).toBe(false);
    expect(lsnReached(undefined, '0/0')).toBe(false);
    expect(lsnReached('', '0/0')).toBe(false);
  });

  it('writes 16 hex digits whose string order is numeric order, and reads them back', () => {
    expect(lsnToHex16('16/B374D848')).toBe('00000016b374d848');
    expect(hex16ToLsn('00000016b374d848')).toBe('16/B374D848');
    expect(hex16ToLsn('16/B374D848')).toBeUndefined();
    expect(lsnFromHalves(0x16, 0xb374d848)).toBe('16/B374D848');
  });

  it('rejects malformed LSNs', () => {
    for (const bad of ['', '0', '0/', '/0', '0/0/0', 'G/0', '0/123456789', ' 0/0', '-1/0']) {
      expect(isLsn(bad)).toBe(false);
      expect(() => lsnToBigInt(bad)).toThrow(/invalid LSN/);
      expect(() => compareLsn(bad, '0/0')).toThrow(/invalid LSN/);
    }
    expect(() => bigIntToLsn(-1n)).toThrow(RangeError);
    expect(() => bigIntToLsn(1n << 64n)).toThrow(RangeError);
  });
});

const U64_MAX = 0xffff_ffff_ffff_ffffn;
