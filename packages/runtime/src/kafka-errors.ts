/**
 * What a failed Kafka produce means for the caller, by the broker's error `type` (kafkajs
 * puts it on KafkaJSProtocolError, and wraps that as `cause` when it gives up). Callers
 * branch on the kind, never on message text:
 * - `record-refused`: the broker refuses these records for what they are (too large,
 *   invalid); the same bytes are refused on every retry, so retrying forever stalls the
 *   stream behind them. Split the batch or dead-letter the record.
 * - `producer-state`: the idempotent producer's sequence numbers no longer match the
 *   broker's (a lost ack, a restarted partition leader): this producer can never send to
 *   that partition again. Recreate it: a new producer id starts new sequences.
 * - `transient`: connections, leadership, timeouts, authorisation being fixed: retry.
 */
export type KafkaFailureKind = 'record-refused' | 'producer-state' | 'transient';

export interface KafkaFailure {
  kind: KafkaFailureKind;
  /** The broker's error type (e.g. MESSAGE_TOO_LARGE), when it sent one. */
  type?: string;
}

const RECORD_REFUSED = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  // Also what a broker answers for a record batch above its size limits.
  'CORRUPT_MESSAGE',
]);

const PRODUCER_STATE = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

export function kafkaFailure(err: unknown): KafkaFailure {
  // Depth-bounded: a cause chain is short, a cyclic one must not hang the classifier.
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string') {
      if (RECORD_REFUSED.has(type)) return { kind: 'record-refused', type };
      if (PRODUCER_STATE.has(type)) return { kind: 'producer-state', type };
      return { kind: 'transient', type };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return { kind: 'transient' };
}
