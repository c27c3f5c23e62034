import { backoffDelay } from '@fabric/runtime';
import { ApplyError } from './errors.js';

export interface RetryPolicy {
  /** Tries per event, the first included; then the event is dead-lettered. */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
}

/**
 * Replies Redis gives for a state that passes (loading, failover, cluster resharding).
 * Any other error reply means the command itself is wrong for the data it met (WRONGTYPE,
 * a version key that is not an integer, a script error): retrying cannot change that.
 */
const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|MOVED|ASK|NOREPLICAS|OOM)\b/;

/** Connection loss, timeouts and transient replies are retried; deterministic replies are not. */
export function isTransient(err: unknown): boolean {
  const cause = err instanceof ApplyError ? err.cause : err;
  if (!(cause instanceof Error)) return true;
  // ioredis marks server error replies with name ReplyError; everything else is the link.
  if (cause.name !== 'ReplyError') return true;
  return TRANSIENT_REPLIES.test(cause.message);
}

export function retryDelay(policy: RetryPolicy, attempt: number, random?: () => number): number {
  return backoffDelay(attempt, policy.baseMs, policy.capMs, random);
}
