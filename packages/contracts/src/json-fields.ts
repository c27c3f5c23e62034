// Tolerant readers of JSON fields: a field that is missing or of the wrong kind is undefined,
// never a guess (a poller must not turn "not said" into 0 or "now").

export function objectOf(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function time(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
