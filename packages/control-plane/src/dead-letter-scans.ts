import { status } from '@grpc/grpc-js';
import { RpcError } from './rpc-error.js';

export const DEFAULT_MAX_CONCURRENT_SCANS = 4;

/**
 * How many dead-letter listings, replays and resolutions may read DLQs at once. Each one
 * reads a partition end to end; past the limit a call is refused at once
 * (RESOURCE_EXHAUSTED, retry later) instead of queueing work a client may have given up on.
 */
export class ScanSlots {
  private running = 0;

  constructor(readonly max: number) {}

  get inUse(): number {
    return this.running;
  }

  /** A slot for one call; the returned function gives it back (once). */
  acquire(what: string): () => void {
    if (this.running >= this.max)
      throw new RpcError(
        status.RESOURCE_EXHAUSTED,
        `${what}: ${this.max} dead-letter scans are already running on this control plane; retry shortly`,
      );
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
    };
  }
}
