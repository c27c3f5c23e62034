/**
 * The one adapter over pg-logical-replication and the pg internals it exposes. Everything
 * else in the reader talks to this class, so a library upgrade that moves a private field
 * breaks here (and in test/pgoutput/replication-connection.test.ts), not in the stream.
 *
 * What we use, and why:
 * - the library's connection handling, COPY BOTH framing and flow control (a slow handler
 *   pauses the socket), with its own acknowledgements switched off: its acknowledge()
 *   confirms lsn + 1, which can skip a transaction (see the LSN notes in stream.ts);
 * - our own START_REPLICATION statement, issued from the plugin's start();
 * - pg's private `client.connection`: `sendCopyFromChunk` for our standby status updates,
 *   `endCopyFrom` to end the COPY, and `stream.resume()` so the server's CopyDone is read
 *   even while flow control has paused reading.
 */

import type { Lsn } from '@fabric/contracts';
import type pg from 'pg';
import { LogicalReplicationService } from 'pg-logical-replication';
import type { Logger } from 'pino';
import { ReplicationStreamError } from './errors.js';

/** The part of pg's private Connection this adapter writes to. */
interface PgConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  stream: { resume(): void };
}

type Subscription = Parameters<LogicalReplicationService['subscribe']>[0];

/** Names of the pg internals this adapter needs that `client` lacks; empty when all are there. */
export function missingPgInternals(client: pg.Client): string[] {
  const conn = (client as unknown as { connection?: Partial<Record<keyof PgConnection, unknown>> }).connection;
  if (!conn) return ['Client.connection'];
  const stream = conn.stream as { resume?: unknown } | undefined;
  return [
    typeof conn.sendCopyFromChunk === 'function' ? undefined : 'Connection.sendCopyFromChunk',
    typeof conn.endCopyFrom === 'function' ? undefined : 'Connection.endCopyFrom',
    typeof stream?.resume === 'function' ? undefined : 'Connection.stream.resume',
  ].filter((name): name is string => name !== undefined);
}

/** A service configured so the library never acknowledges on its own and awaits async handlers. */
export function createReplicationService(connectionString: string): LogicalReplicationService {
  // auto:false + timeoutSeconds:0: the library must never acknowledge on its own (its timer
  // confirms the last RECEIVED lsn + 1). flowControl: await async handlers, pause the socket.
  return new LogicalReplicationService(
    { connectionString },
    { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
  );
}

export interface ReplicationEvents<T> {
  /** Every XLogData payload, synchronously and in arrival order. Must not throw: it runs in the socket's data event. */
  parse(payload: Buffer): T;
  /** The server accepted START_REPLICATION; the connection is in COPY BOTH mode. */
  started(): void;
  /** One parsed XLogData; the next is not delivered before this settles. */
  data(lsn: Lsn, parsed: T): Promise<void>;
  /** A primary keepalive: the server's WAL end, and whether it asks for a status update now. */
  keepalive(walEnd: Lsn, replyRequested: boolean): void;
  error(err: Error): void;
}

export interface ReplicationConnectionOptions<T> {
  connectionString: string;
  slot: string;
  /** Our START_REPLICATION statement (startReplicationSql). */
  startSql: string;
  logger: Logger;
  events: ReplicationEvents<T>;
  /** Default createReplicationService(connectionString); tests pass one with a fake connection. */
  service?: LogicalReplicationService;
}

export class ReplicationConnection<T> {
  private readonly service: LogicalReplicationService;
  private client: pg.Client | null = null;

  constructor(private readonly opts: ReplicationConnectionOptions<T>) {
    this.service = opts.service ?? createReplicationService(opts.connectionString);
  }

  /**
   * Connects and starts replication. Settles when replication is over: undefined when the
   * COPY ended (by the server, or after endCopy()), the error when it failed. Never rejects.
   */
  open(): Promise<Error | undefined> {
    const { events, startSql, logger } = this.opts;
    const service = this.service;
    service.on('error', (err: Error) => events.error(err));
    service.on('start', () => events.started());
    service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => events.keepalive(lsn, shouldRespond));
    service.on('data', (lsn: string, parsed: T) => events.data(lsn, parsed));
    const plugin: Subscription = {
      options: {},
      name: 'pgoutput',
      parse: (payload: Buffer) => events.parse(payload),
      start: (client: pg.Client) => {
        const missing = missingPgInternals(client);
        if (missing.length > 0)
          return Promise.reject(
            new ReplicationStreamError(
              `pg no longer has ${missing.join(', ')}; the replication adapter needs updating`,
            ),
          );
        this.client = client;
        logger.info({ sql: startSql }, 'starting replication');
        return client.query(startSql);
      },
    };
    return service.subscribe(plugin, this.opts.slot).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Sends one CopyData message to the server (a standby status update). */
  sendCopyData(chunk: Buffer): void {
    const conn = this.connection();
    if (!conn) throw new ReplicationStreamError('no replication connection to write to');
    conn.sendCopyFromChunk(chunk);
  }

  /**
   * Ends our side of the COPY (CopyDone), so the server reads what we sent before it and
   * then ends replication, and resumes reading, which flow control may have paused: the
   * server's CopyDone must be read for replication to end.
   */
  endCopy(): void {
    const conn = this.connection();
    conn?.endCopyFrom();
    conn?.stream.resume();
  }

  /** Closes the connection and drops every listener. */
  async destroy(): Promise<void> {
    await this.service.destroy();
  }

  private connection(): PgConnection | undefined {
    return (this.client as unknown as { connection?: PgConnection } | null)?.connection;
  }
}
