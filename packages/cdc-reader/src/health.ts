import type { ReplicationStreamState } from './pgoutput/index.js';
import type { UnacknowledgedSend } from './publisher.js';

export interface ReaderVerdict {
  ok: boolean;
  /** Why not, one reason per failing condition; absent while ok. */
  detail?: string;
  /** While a batch is unacknowledged: since when (ISO), for pollers with thresholds of their own. */
  publisherUnacknowledgedSince?: string;
  publisherFailedAttempts?: number;
}

export interface ReaderHealthInputs {
  stream: ReplicationStreamState;
  /** The batch Kafka has not acknowledged yet, if one is being sent. */
  unacknowledged: UnacknowledgedSend | undefined;
  /** How long a batch may stay unacknowledged before the answer is no (ms). */
  graceMs: number;
  /** Since when the continuity record could not be written; confirmations wait for it. */
  recordFailingSince?: number;
  now: number;
}

const STREAM_PROBLEM: Record<Exclude<ReplicationStreamState, 'streaming'>, string> = {
  idle: 'replication not started yet',
  starting: 'replication starting',
  stopping: 'replication stopping',
  closed: 'replication stream closed',
};

/**
 * Decides whether the reader can do its job, which /healthz answers with 200 or 503. No,
 * at once, while the WAL stream is not streaming: nothing is read. No, after the grace
 * period, while one batch stays unacknowledged by Kafka: the publisher retries it forever
 * (nothing may be skipped), so the slot stops advancing and the region's caches go stale
 * while the process looks alive. A send that hangs counts like one that fails.
 */
export function readerVerdict({
  stream,
  unacknowledged,
  graceMs,
  recordFailingSince,
  now,
}: ReaderHealthInputs): ReaderVerdict {
  const reasons: string[] = [];
  if (recordFailingSince !== undefined && now - recordFailingSince > graceMs)
    reasons.push(
      `the continuity record in Redis cannot be written for ${Math.round((now - recordFailingSince) / 1000)} s: ` +
        'the slot is not confirmed meanwhile and keeps its WAL',
    );
  if (stream !== 'streaming') reasons.push(STREAM_PROBLEM[stream]);
  if (unacknowledged && now - unacknowledged.since > graceMs) {
    const { failedAttempts, lastError } = unacknowledged;
    const seconds = Math.round((now - unacknowledged.since) / 1000);
    const attempts = failedAttempts === 1 ? '1 failed attempt' : `${failedAttempts} failed attempts`;
    const last = lastError ? `, last: ${lastError}` : '';
    reasons.push(`kafka has not acknowledged a batch for ${seconds} s (${attempts}${last})`);
  }
  const publisher = unacknowledged && {
    publisherUnacknowledgedSince: new Date(unacknowledged.since).toISOString(),
    publisherFailedAttempts: unacknowledged.failedAttempts,
  };
  return reasons.length === 0 ? { ok: true, ...publisher } : { ok: false, detail: reasons.join('; '), ...publisher };
}
