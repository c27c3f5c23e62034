/**
 * A rules file that cannot be used. Thrown only at start-up (parse/load); the reader must
 * refuse to run rather than guess, because a silently ignored rule means stale caches.
 *
 * `path` points into the document (`tables["public.users"].keys[1]`; empty when the problem
 * is the file itself) so an operator can jump straight to the offending entry.
 */
export class KeyRulesError extends Error {
  override readonly name = 'KeyRulesError';

  constructor(
    /** The rules file name (or whatever label the caller passed as `source`). */
    readonly source: string,
    /** Location inside the document, e.g. `tables["public.users"].keys[1]`; '' for the whole file. */
    readonly path: string,
    /** What is wrong and what is expected, without the location prefix. */
    readonly detail: string,
    /** 1-based line in the file, when known. */
    readonly line?: number,
  ) {
    const where = line === undefined ? source : `${source}:${line}`;
    super(path ? `${where}: ${path}: ${detail}` : `${where}: ${detail}`);
  }
}
