import { KeyRulesError, parseKeyRules } from '../../src/rules/index.js';

/** The KeyRulesError a rules text is refused with; fails the test when it is accepted. */
export function rejection(text: string, source = 'rules.yaml'): KeyRulesError {
  try {
    parseKeyRules(text, source);
  } catch (err) {
    if (err instanceof KeyRulesError) return err;
    throw err;
  }
  throw new Error('expected the rules to be rejected');
}

/** A file with `body` as the rule of `table` (indented under it). */
export function withTable(table: string, body: string): string {
  return `version: 1\ntables:\n  ${table}:\n${body
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n`;
}
