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
  /** What the check at this start found: a first start, a stream that continues, or a gap (with its reason). */
  continuity?: ReaderContinuity;
}

export interface ReaderContinuity {
  verdict: 'first-start' | 'continuous' | 'gap' | 'unchecked';
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
}

export function parseReaderStatus(body: unknown): ReaderStatusReading {
  const status = objectOf(body);
  return {
    confirmedLsn: text(status.confirmedLsn),
    pending: finite(status.pending),
    lastEventAt: time(status.lastEventAt),
  };
}
