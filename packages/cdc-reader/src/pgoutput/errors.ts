export type DecodeErrorCode = 'unknown-tag' | 'unknown-relation' | 'truncated' | 'malformed';

/** A pgoutput message the decoder cannot turn into a PgoutputMessage. Fatal for the stream. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
    /** The message tag character ('I', 'U', ...), when it was read. */
    readonly tag?: string,
  ) {
    super(message);
  }
}

/** Misuse of a ReplicationStream, or the stream ended or failed. */
export class ReplicationStreamError extends Error {
  override readonly name = 'ReplicationStreamError';
}
