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
