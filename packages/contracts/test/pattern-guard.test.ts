import { describe, expect, it } from 'vitest';
import { literalPrefix, unguardedPatternProblem } from '../src/pattern-guard.js';

describe('the pattern guard', () => {
  it.each([
    ['user:*', 'user:'],
    ['user:42', 'user:42'],
    ['s:[ab]*', 's:'],
    ['a?c', 'a'],
    ['\\*literal*', '*literal'],
    ['*', ''],
    ['*:*', ''],
    ['*e*', ''],
    ['?ser:*', ''],
    ['[a-z]*', ''],
    ['\\', ''],
  ])('%s has the literal prefix %j', (pattern, prefix) => expect(literalPrefix(pattern)).toBe(prefix));

  it('refuses a pattern starting with a wildcard, whatever follows, naming the fix', () => {
    expect(unguardedPatternProblem('user:*')).toBeUndefined();
    expect(unguardedPatternProblem('*:*')).toMatch(/"\*:\*" has no literal prefix .*e\.g\. "user:\*", or set force/);
    expect(unguardedPatternProblem('*e*')).toMatch(/no literal prefix/);
  });
});
