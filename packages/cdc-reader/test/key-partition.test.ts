import { createRequire } from 'node:module';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartition } from '../src/key-partition.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: string) => number;

/** Keys of every shape the fabric publishes, and some it never would: the function is all or nothing. */
function keys(): string[] {
  const out = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'user:1', 'team:42:members', 'ver:user:9', 'heartbeat', 'resync'];
  out.push('user:email:ÄÖÜ@exämple.com', '用户:1', 'emoji:😀:x', 'x'.repeat(300), 'é'.repeat(100));
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 5000; i++) {
    const length = next() % 40;
    let key = '';
    for (let j = 0; j < length; j++)
      key += String.fromCodePoint(next() % 3 === 0 ? 0x20 + (next() % 0x3000) : 0x20 + (next() % 95));
    out.push(key);
  }
  return out;
}

describe('keyPartition', () => {
  it("puts every key where kafkajs's default partitioner would, for any partition count", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 4, 12, 50]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }));
      for (const key of keys()) {
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect(keyPartition(key, partitions), `key ${JSON.stringify(key)} over ${partitions}`).toBe(expected);
      }
    }
  });

  it('is murmur2 itself, not just its residue: the hash agrees for every key', () => {
    for (const key of keys())
      expect(keyPartition(key, 0x7fffffff)).toBe((kafkajsMurmur2(key) & 0x7fffffff) % 0x7fffffff);
  });
});
