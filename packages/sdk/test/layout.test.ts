import { describe, expect, it } from 'vitest';
import { hashTagOf, leaseKey, staleKey, tagKey } from '../src/layout.js';

describe('key layout', () => {
  it('wraps plain keys whole so key and lease share a cluster slot', () => {
    expect(leaseKey('user:42')).toBe('lease:{user:42}');
    expect(staleKey('user:42')).toBe('stale:{user:42}');
    expect(tagKey('team:7:members')).toBe('tag:{team:7:members}');
  });

  it('keeps a key’s own hash tag instead of nesting braces', () => {
    expect(leaseKey('user:{42}:profile')).toBe('lease:user:{42}:profile');
    expect(hashTagOf(leaseKey('user:{42}:profile'))).toBe('42');
  });

  it('follows Redis’s hash tag rule: first "{", first "}" after it, non-empty', () => {
    expect(hashTagOf('plain')).toBeUndefined();
    expect(hashTagOf('a{}b{c}')).toBeUndefined();
    expect(hashTagOf('a{b}c{d}')).toBe('b');
    expect(hashTagOf('{a{b}')).toBe('a{b');
    expect(hashTagOf('a}b{c')).toBeUndefined();
    expect(leaseKey('a{}b')).toBe('lease:{a{}b}');
  });
});
