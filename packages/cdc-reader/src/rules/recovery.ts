import type { KeyRules } from './schema.js';

/** What a resync of the region drops: every table's recovery action, merged. */
export interface RecoveryPlan {
  keys: string[];
  tags: string[];
  versions: string[];
  patterns: string[];
}

/**
 * Merges every table's recovery action into the one plan a RESYNC carries. A pattern
 * already reached by a shorter prefix pattern is left out: each one is a full SCAN of
 * the keyspace, so "user:*" beside "user:email:*" would scan twice for nothing.
 */
export function renderRecovery(rules: KeyRules): RecoveryPlan {
  const plan = { keys: new Set<string>(), tags: new Set<string>(), versions: new Set<string>() };
  const patterns = new Set<string>();
  for (const rule of rules.tables.values()) {
    for (const k of rule.recovery.keys) plan.keys.add(k);
    for (const t of rule.recovery.tags) plan.tags.add(t);
    for (const v of rule.recovery.versions) plan.versions.add(v);
    for (const p of rule.recovery.patterns) patterns.add(p);
  }
  const prefixes = [...patterns].filter(isPrefixPattern).map((p) => p.slice(0, -1));
  const kept = [...patterns].filter((p) => !prefixes.some((prefix) => p !== `${prefix}*` && p.startsWith(prefix)));
  return { keys: [...plan.keys], tags: [...plan.tags], versions: [...plan.versions], patterns: kept.sort() };
}

function isPrefixPattern(pattern: string): boolean {
  return pattern.endsWith('*') && !/[*?[\\]/.test(pattern.slice(0, -1));
}
