import { leaseKey, tagKey } from '@fabric/sdk';
import { describe, expect, it } from 'vitest';
import { groupBySlot, keySlot } from '../src/slot.js';

describe('cluster slots', () => {
  it('matches Redis Cluster’s CRC16 (vectors from cluster-key-slot)', () => {
    const vectors: Record<string, number> = {
      '123456789': 12739,
      foo: 12182,
      bar: 5061,
      'user:42': 15880,
      '{user1000}.following': 3443,
      'ключ:1': 2323,
      'a{}b': 13694,
      'a{b}c{d}': 3300,
      'tag:{team:7:members}': 15868,
    };
    for (const [key, slot] of Object.entries(vectors)) expect(keySlot(key), key).toBe(slot);
  });

  it('agrees with what a Redis 7 server answers to CLUSTER KEYSLOT', () => {
    // Asked of redis-server 7.0 (the examples of the CLUSTER KEYSLOT page and the cluster
    // spec's hash tag rules, plus multi-byte UTF-8 and lease keys).
    const answered: Record<string, number> = {
      somekey: 11058,
      'foo{hash_tag}': 2515,
      '{hash_tag}': 2515,
      'foo{{bar}}zap': 4015,
      'foo{bar}{zap}': 5061,
      '{}': 15257,
      'lease:{user:42}': 15880,
      '日本語{タグ}x': 9716,
      '🙂': 6396,
      '': 0,
    };
    for (const [key, slot] of Object.entries(answered)) expect(keySlot(key), key).toBe(slot);
  });

  it('slots an empty first hash tag followed by a closing brace as ioredis routes it, not as the server does', () => {
    // The server hashes the whole key (8363); ioredis, and so this grouping, hashes "{bar".
    // Pinned so a change in either is noticed.
    expect(keySlot('foo{}{bar}')).toBe(keySlot('{bar'));
    expect(keySlot('foo{}{bar}')).not.toBe(8363);
  });

  it('puts every key in the slot of its lease', () => {
    for (const key of ['user:42', 'user:{42}:profile', 'product:9:v2', 'ключ:1'])
      expect(keySlot(leaseKey(key)), key).toBe(keySlot(key));
    expect(keySlot(tagKey('team:7:members'))).toBe(keySlot('team:7:members'));
  });

  it('groups items by the slot of their key', () => {
    const groups = groupBySlot(['{a}1', '{a}2', 'foo', '{b}1'], (k) => k);
    expect([...groups.values()].map((g) => g.sort())).toEqual(
      expect.arrayContaining([['{a}1', '{a}2'], ['foo'], ['{b}1']]),
    );
    expect(groups.size).toBe(3);
  });
});
