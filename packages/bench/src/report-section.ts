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
