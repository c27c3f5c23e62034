/** Where applying one event failed; the caller retries or dead-letters that event alone. */
export type ApplyStage = 'tag' | 'pattern' | 'unlink' | 'incr' | 'heartbeat';

export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  constructor(
    readonly stage: ApplyStage,
    readonly eventId: string,
    override readonly cause: unknown,
  ) {
    super(
      `${stage} failed for event ${eventId || '(no id)'}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}
