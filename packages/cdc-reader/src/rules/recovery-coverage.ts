import type { TruncateRule } from './schema.js';
import type { Template } from './template.js';

const GLOB = /[*?[\\]/;

/** The literal text before a template's first placeholder (escapes resolved). */
function literalPrefix(template: Template): string {
  let out = '';
  for (const part of template.parts) {
    if (part.kind === 'column') break;
    out += part.text;
  }
  return out;
}

/**
 * A pattern provably reaches every rendering of a key template when it is a literal
 * prefix and one trailing `*`, and the template starts with that prefix. Other globs may
 * reach it too, but nothing at load time can prove it, so they do not count.
 */
function reaches(pattern: string, template: Template): boolean {
  if (!pattern.endsWith('*')) return false;
  const prefix = pattern.slice(0, -1);
  return !GLOB.test(prefix) && literalPrefix(template).startsWith(prefix);
}

/**
 * The first key template a recovery action cannot be shown to drop, with the prefix a
 * covering pattern would need. A recovery that bumps versions is trusted for every key:
 * the SDK reads a value filled under an older version as a miss.
 */
export function uncoveredKey(
  keys: readonly Template[],
  recovery: TruncateRule,
): { source: string; prefix: string } | undefined {
  if (recovery.versions.length > 0) return undefined;
  for (const template of keys) {
    const literal = template.parts.every((p) => p.kind === 'text');
    if (literal && recovery.keys.includes(literalPrefix(template))) continue;
    if (recovery.patterns.some((p) => reaches(p, template))) continue;
    return { source: template.source, prefix: literalPrefix(template) };
  }
  return undefined;
}
