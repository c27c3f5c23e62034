/**
 * A pattern invalidation SCANs a region's whole keyspace and deletes what matches, so a
 * pattern must say where in it to look: a literal prefix, as the key rules' own keys have
 * (`user:42:*`). A pattern that starts with a wildcard (`*`, `*:*`, `*e*`, `?x`, `[a-z]*`)
 * matches keys of every kind, whatever literal characters follow; only the operator's
 * explicit `force` (the control plane's Invalidate) may ask for that. The control plane
 * refuses such a request and the invalidator refuses such an event, whoever sent it.
 */

/** The characters every key the pattern matches starts with ('' when it starts with a wildcard). */
export function literalPrefix(pattern: string): string {
  let prefix = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' || c === '?' || c === '[') return prefix;
    // Redis glob: a backslash makes the next character literal.
    if (c === '\\') {
      if (i + 1 >= pattern.length) return prefix;
      prefix += pattern[++i];
    } else prefix += c;
  }
  return prefix;
}

/** Why `pattern` may not be expanded without force; undefined when it names a prefix. */
export function unguardedPatternProblem(pattern: string): string | undefined {
  if (literalPrefix(pattern) !== '') return undefined;
  return `${JSON.stringify(pattern)} has no literal prefix and would match keys of every kind in the region's cache (name the prefix, e.g. "user:*", or set force)`;
}
