import { backoffDelay } from '@fabric/runtime';
import { ApplyError } from './errors.js';

export interface RetryPolicy {
  /**
   * Tries per event, the first included, while its keys' slot is moving (TRYAGAIN, MOVED,
   * ASK); then the event is dead-lettered. An outage is never counted against it.
   */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
}

/**
 * What a failed apply says about whose fault it is, which decides what happens next:
 * - `outage`: the link or the server is not able to serve anyone (connection refused or
 *   closed, timeouts, LOADING, READONLY, CLUSTERDOWN, MISCONF, OOM, NOAUTH, NOPERM...).
 *   Every event would fail the same way, so none is dead-lettered: the partition blocks
 *   and retries until Redis answers again, or the operator fixes the credentials or ACL.
 * - `slot-moving`: the keys of this event sit in a slot being migrated; passes, but only
 *   for this event's keys, so it is retried up to the policy's maxAttempts.
 * - `event`: the command is wrong for the data it met (WRONGTYPE, a version key that is not
 *   an integer, CROSSSLOT, a script error): retrying cannot change that, so it is a dead letter.
 */
export type FailureKind = 'outage' | 'slot-moving' | 'event';

/** Replies that describe the server's state, not the command that got them. */
const SERVER_STATE_REPLIES =
  /^(LOADING|BUSY|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS|OOM|MISCONF|NOAUTH|WRONGPASS|NOPERM|NOSCRIPT|ERR max number of clients)\b/;
const SLOT_MOVING_REPLIES = /^(TRYAGAIN|MOVED|ASK)\b/;

export function failureKind(err: unknown): FailureKind {
  const cause = err instanceof ApplyError ? err.cause : err;
  // ioredis names server error replies ReplyError; every other failure is the link's.
  if (!(cause instanceof Error) || cause.name !== 'ReplyError') return 'outage';
  if (SERVER_STATE_REPLIES.test(cause.message)) return 'outage';
  if (SLOT_MOVING_REPLIES.test(cause.message)) return 'slot-moving';
  return 'event';
}

/** A short label for metrics and logs: the reply's code, or `connection` for the link. */
export function failureReason(err: unknown): string {
  const cause = err instanceof ApplyError ? err.cause : err;
  if (!(cause instanceof Error) || cause.name !== 'ReplyError') return 'connection';
  return /^[A-Z]+/.exec(cause.message)?.[0] ?? 'ERR';
}

export function retryDelay(policy: RetryPolicy, attempt: number, random?: () => number): number {
  // Capped well before 2^attempt could overflow: a blocked partition retries for hours.
  return backoffDelay(Math.min(attempt, 30), policy.baseMs, policy.capMs, random);
}
