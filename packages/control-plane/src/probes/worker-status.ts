import {
  type InvalidatorStatusReading,
  parseInvalidatorStatus,
  parseReaderStatus,
  type ReaderStatusReading,
} from '@fabric/contracts';
import { type Observed, withTimeout } from './observed.js';

/** A worker's status read from its JSON, and a problem it reports even while answering 200. */
export interface WorkerReport<T> {
  value: T;
  problem?: string;
}

/**
 * GETs a worker's status JSON. 200 with ok=true and no reported problem is healthy; any
 * other answer (503, ok=false, Redis down) is unhealthy but its numbers still count,
 * since a worker whose Redis is down still knows how far it got. No answer in time, or
 * no JSON, leaves the numbers unknown.
 */
export async function fetchWorkerStatus<T>(
  url: string,
  timeoutMs: number,
  read: (body: Record<string, unknown>) => WorkerReport<T>,
): Promise<Observed<T>> {
  let response: Response;
  try {
    response = await withTimeout(url, timeoutMs, fetch(url, { signal: AbortSignal.timeout(timeoutMs) }));
  } catch (err) {
    return { status: 'unreachable', detail: describeFetchError(err) };
  }
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = await withTimeout(url, timeoutMs, response.json());
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not a JSON object');
    body = parsed as Record<string, unknown>;
  } catch (err) {
    return { status: 'unhealthy', detail: `HTTP ${response.status}, unreadable status: ${(err as Error).message}` };
  }
  const { value, problem } = read(body);
  if (response.status === 200 && body.ok === true && !problem) return { status: 'healthy', value };
  const reasons = [
    `HTTP ${response.status}`,
    body.ok === true ? undefined : 'ok=false',
    problem,
    typeof body.detail === 'string' ? body.detail : undefined,
  ];
  return { status: 'unhealthy', value, detail: reasons.filter(Boolean).join(', ') };
}

export function readReaderStatus(body: Record<string, unknown>): WorkerReport<ReaderStatusReading> {
  return { value: parseReaderStatus(body) };
}

export function readInvalidatorStatus(body: Record<string, unknown>): WorkerReport<InvalidatorStatusReading> {
  const value = parseInvalidatorStatus(body);
  return {
    value,
    // The invalidator stays "ok" through a short Redis outage (retries and the DLQ absorb
    // it), but meanwhile the region's cache is not being invalidated.
    problem: value.redis === 'down' ? 'redis down' : undefined,
  };
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return (err as Error).message ?? String(err);
}
