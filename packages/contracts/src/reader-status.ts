import { finite, objectOf, text, time } from './json-fields.js';

/** What a CDC reader's /healthz answers (503 when not ok); the control plane polls it. */
export interface ReaderStatus {
  ok: boolean;
  /** Why the reader is not ok, when it says so. */
  detail?: string;
  /** The slot's confirmed position: every change before it is in Kafka. */
  confirmedLsn?: string;
  /** Events decoded but not yet acknowledged by Kafka. */
  pending: number;
  lastEventAt?: string;
  /**
   * Since when the batch Kafka has not acknowledged yet was first sent, while there is one.
   * The publisher retries it forever (nothing may be skipped), so a long one means the
   * slot stopped advancing; the control plane holds it against its own threshold.
   */
  publisherUnacknowledgedSince?: string;
  /** Failed attempts of that batch so far. */
  publisherFailedAttempts?: number;
  /** What the check at this start found: a first start, a stream that continues, or a gap (with its reason). */
  continuity?: ReaderContinuity;
}

export const READER_VERDICTS = ['first-start', 'continuous', 'gap', 'unchecked'] as const;
export type ReaderVerdict = (typeof READER_VERDICTS)[number];

export interface ReaderContinuity {
  verdict: ReaderVerdict;
  reason?: string;
  detail?: string;
  resyncId?: string;
  checkedAt: string;
}

/** A reader's status as a poller reads it: what the reader did not say (or said malformed) is undefined. */
export interface ReaderStatusReading {
  confirmedLsn: string | undefined;
  pending: number | undefined;
  lastEventAt: Date | undefined;
  publisherUnacknowledgedSince: Date | undefined;
  publisherFailedAttempts: number | undefined;
  /** Undefined when the reader did not say (an older reader) or said something unknown. */
  continuity: ReaderContinuity | undefined;
}

export function parseReaderStatus(body: unknown): ReaderStatusReading {
  const status = objectOf(body);
  return {
    confirmedLsn: text(status.confirmedLsn),
    pending: finite(status.pending),
    lastEventAt: time(status.lastEventAt),
    publisherUnacknowledgedSince: time(status.publisherUnacknowledgedSince),
    publisherFailedAttempts: finite(status.publisherFailedAttempts),
    continuity: parseReaderContinuity(status.continuity),
  };
}

/** A verdict this poller does not know is not guessed at: the whole block reads as not said. */
function parseReaderContinuity(body: unknown): ReaderContinuity | undefined {
  const raw = objectOf(body);
  const verdict = READER_VERDICTS.find((v) => v === raw.verdict);
  if (!verdict) return undefined;
  return {
    verdict,
    reason: text(raw.reason),
    detail: text(raw.detail),
    resyncId: text(raw.resyncId),
    checkedAt: time(raw.checkedAt)?.toISOString() ?? '',
  };
}
