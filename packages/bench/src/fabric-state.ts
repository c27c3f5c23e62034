// Reads the fabric's own view: invalidator /healthz and reader /healthz.

import type { InvalidatorStatus, ReaderStatus } from '@fabric/contracts';
import type { RegionEndpoints } from '@fabric/sandbox';

/** GET url as JSON, trusted to be a T; null on any error or timeout. */
export async function getJson<T>(url: string, timeoutMs = 2000): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return (await res.json()) as T;
  } catch {
    return null;
  }
}

export const invalidatorHealth = (r: RegionEndpoints): Promise<InvalidatorStatus | null> =>
  getJson<InvalidatorStatus>(`http://${r.redis.host}:${r.metrics.invalidator}/healthz`);

export const readerHealth = (r: RegionEndpoints): Promise<ReaderStatus | null> =>
  getJson<ReaderStatus>(`http://${r.postgres.host}:${r.metrics.reader}/healthz`);
