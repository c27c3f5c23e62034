import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const PGOUTPUT = path.resolve(import.meta.dirname, '../../src/pgoutput');

/** Relative imports of a source file that leave its own directory. */
function importsOutside(file: string): string[] {
  const source = readFileSync(path.join(PGOUTPUT, file), 'utf8');
  return [...source.matchAll(/from\s+'(\.[^']*)'/g)].map((m) => m[1]!).filter((spec) => !spec.startsWith('./'));
}

describe('the pgoutput layer', () => {
  it('is wire protocol only: nothing in it imports the key rules, slot setup or the reader', () => {
    const files = readdirSync(PGOUTPUT).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    expect(
      Object.fromEntries(files.map((f) => [f, importsOutside(f)]).filter(([, outside]) => outside!.length > 0)),
    ).toEqual({});
  });
});
