/**
 * Secrets reach a log line or an error by way of a URL more than any other: an operator
 * writes `redis://user:pass@host` or `postgres://role:pass@host/db`, and the URL is then
 * echoed back in a complaint about it. Everything that shows a URL or a message that may
 * quote one passes it through here first.
 */
// Greedy up to the last @ before the path: a password may itself hold an unescaped @.
const USERINFO_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^\s/]*@/gi;

/** `scheme://user:password@host...` → `scheme://user:***@host...`, for every URL in the text. */
export function redact(text: string): string {
  return text.replace(USERINFO_PASSWORD, '$1:***@');
}

/** Also masks given secrets (a password read from a file) wherever they appear verbatim. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = redact(text);
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('***');
  return out;
}
