/**
 * What one probe found. "unreachable" (no answer in time) is kept apart from "unhealthy"
 * (an answer that reports a problem), and neither carries made-up numbers: a value is
 * present only when the component said it.
 */
export type Observed<T> =
  | { status: 'healthy'; value: T }
  | { status: 'unhealthy'; value?: T; detail: string }
  | { status: 'unreachable'; detail: string };

export class ProbeTimeoutError extends Error {
  override readonly name = 'ProbeTimeoutError';
}

/** Rejects with ProbeTimeoutError after `ms`; the probe itself is left to fail on its own. */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeoutError(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
