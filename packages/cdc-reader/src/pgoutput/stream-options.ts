import type { Lsn } from '@fabric/contracts';
import type { Logger } from 'pino';
import type { InboundCounters } from './inbound.js';

/** What a ReplicationStream is built with. */
export interface ReplicationStreamOptions {
  connectionString: string;
  slot: string;
  publication: string;
  logger: Logger;
  /** At most one status update per interval after confirm(); replies to keepalive requests are immediate. Default 1000. */
  statusIntervalMs?: number;
  /** A status update is sent at least this often even without progress, so wal_sender_timeout never fires while a slow handler blocks reading. Default 10000. */
  heartbeatIntervalMs?: number;
  /**
   * Called with a primary keepalive's WAL end once every message received before that
   * keepalive has been handled, and only outside a transaction (after a COMMIT, never
   * between BEGIN and COMMIT). If the caller has nothing in flight, it may confirm(walEnd):
   * this lets an idle slot (all changes filtered out, or skipped empty transactions)
   * release WAL. Keepalives are dropped, not queued, when inside a transaction.
   */
  onKeepalive?: (walEnd: Lsn) => void;
  /** How long stop() waits for a running handler and for the server to end the COPY. Default 5000. */
  stopTimeoutMs?: number;
}

export type ReplicationStreamState = 'idle' | 'starting' | 'streaming' | 'stopping' | 'closed';

export interface ReplicationStreamStats extends InboundCounters {
  state: ReplicationStreamState;
  /** Standby status updates sent. */
  statusUpdates: number;
  confirmedLsn: Lsn;
  /** Flush position last sent to the server. */
  reportedLsn: Lsn;
  /** Highest position the server has sent (data or keepalive). */
  lastSeenLsn: Lsn;
}
