import { type Observed, withTimeout } from './observed.js';

/** What a CDC reader's /healthz says; fields it did not send stay undefined. */
export interface ReaderStatus {
  confirmedLsn: string | undefined;
  pending: number | undefined;
  lastEventAt: Date | undefined;
}

/** What an invalidator's /healthz says; fields it did not send stay undefined. */
export interface InvalidatorStatus {
  redis: 'up' | 'down' | undefined;
  lastAppliedCommitTime: Date | undefined;
  latencyP50Ms: number | undefined;
  latencyP99Ms: number | undefined;
}

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

export function readReaderStatus(body: Record<string, unknown>): WorkerReport<ReaderStatus> {
  return {
    value: {
      confirmedLsn: typeof body.confirmedLsn === 'string' ? body.confirmedLsn : undefined,
      pending: finite(body.pending),
      lastEventAt: time(body.lastEventAt),
    },
  };
}

export function readInvalidatorStatus(body: Record<string, unknown>): WorkerReport<InvalidatorStatus> {
  const latency =
    typeof body.latencyMs === 'object' && body.latencyMs !== null ? (body.latencyMs as Record<string, unknown>) : {};
  const redis = body.redis === 'up' || body.redis === 'down' ? body.redis : undefined;
  return {
    value: {
      redis,
      lastAppliedCommitTime: time(body.lastAppliedCommitTime),
      latencyP50Ms: finite(latency.p50),
      latencyP99Ms: finite(latency.p99),
    },
    // The invalidator stays "ok" without Redis (the DLQ absorbs failures), but the
    // region's cache is not being invalidated.
    problem: redis === 'down' ? 'redis down' : undefined,
  };
}

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function time(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return (err as Error).message ?? String(err);
}
