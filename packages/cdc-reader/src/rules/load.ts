import { readFile } from 'node:fs/promises';
import { KeyRulesError } from './errors.js';
import { type KeyRules, parseKeyRules } from './schema.js';

/** Read and validate a rules file; every failure, I/O included, is a KeyRulesError naming the path. */
export async function loadKeyRules(path: string): Promise<KeyRules> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOENT'
        ? `rules file not found: ${path}`
        : `cannot read rules file ${path}: ${err instanceof Error ? err.message : String(err)}`;
    throw new KeyRulesError(path, '', detail);
  }
  return parseKeyRules(text, path);
}
