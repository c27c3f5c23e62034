// A section of BENCHMARKS.md between markers, so a run of one phase (--phase sdk) can
// update its own section and keep every other section of the last full run. Pure.

const begin = (name: string): string => `<!-- bench:${name} -->`;
const end = (name: string): string => `<!-- /bench:${name} -->`;

/** The body wrapped in its markers. */
export function markSection(name: string, body: string): string {
  return `${begin(name)}\n${body.trimEnd()}\n${end(name)}`;
}

/** doc with the named section replaced by body; appended when the doc has no such section. */
export function replaceSection(doc: string, name: string, body: string): string {
  const marked = markSection(name, body);
  const from = doc.indexOf(begin(name));
  const to = doc.indexOf(end(name));
  if (from < 0 || to < from) return `${doc.trimEnd()}\n\n${marked}\n`;
  return doc.slice(0, from) + marked + doc.slice(to + end(name).length);
}

/** The body of the named section of doc, without its markers; undefined when doc has none. */
export function sectionBody(doc: string, name: string): string | undefined {
  const from = doc.indexOf(begin(name));
  const to = doc.indexOf(end(name));
  if (from < 0 || to < from) return undefined;
  return doc.slice(from + begin(name).length, to).trim();
}

/**
 * A full run's report with the sections only a run of one phase writes (drain, catch-up,
 * keep-up) carried over from the previous report: a full run does not measure them, and
 * would otherwise drop them.
 */
export function carryOver(report: string, previous: string, names: readonly string[]): string {
  let out = report;
  for (const name of names) {
    const body = sectionBody(previous, name);
    if (body !== undefined && sectionBody(out, name) === undefined) out = replaceSection(out, name, body);
  }
  return out;
}
