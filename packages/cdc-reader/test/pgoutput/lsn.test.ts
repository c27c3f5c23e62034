import { describe, expect, it } from 'vitest';
import { readLsn } from '../../src/pgoutput/index.js';

// The text forms and their order are @fabric/contracts' (packages/contracts/test/lsn.test.ts).
describe('readLsn', () => {
  it('reads a big-endian 64-bit position from a buffer', () => {
    const b = Buffer.alloc(10);
    b.writeBigUInt64BE(0x0000_0001_0000_00ffn, 2);
    expect(readLsn(b, 2)).toBe('1/FF');
  });
});
