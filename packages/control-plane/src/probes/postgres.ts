import { HEARTBEAT_TABLE } from '@fabric/contracts';
import pg from 'pg';
import type { Logger } from 'pino';
import { type Observed, withTimeout } from './observed.js';

export interface SlotState {
  active: boolean;
  /** WAL head minus confirmed_flush_lsn; undefined while the slot has confirmed nothing. */
  lagBytes: bigint | undefined;
}

export interface DatabaseState {
  walHead: string;
  /** Only the slots that were asked for and exist. */
  slots: Map<string, SlotState>;
  /** fabric.heartbeat.beat_at as this database has it (replicated from the primary). */
  heartbeat: Date | undefined;
}

const SLOTS_SQL = `
  select pg_current_wal_lsn()::text as wal_head,
         coalesce((select json_agg(json_build_object(
                     'name', slot_name,
                     'active', active,
                     'lag', pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text))
                   from pg_replication_slots where slot_name = any($1::text[])), '[]'::json) as slots`;
const HEARTBEAT_SQL = `select beat_at from ${HEARTBEAT_TABLE} where id = 1`;
const UNDEFINED_TABLE = '42P01';

/**
 * Reads WAL head, slot positions and the heartbeat of one region's database over a pool
 * of one connection, reused across probes so WatchLag does not reconnect every second.
 */
export class DatabaseProbe {
  private readonly pool: pg.Pool;

  constructor(
    connectionString: string,
    private readonly timeoutMs: number,
    logger: Logger,
  ) {
    this.pool = new pg.Pool({
      connectionString,
      max: 1,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'fabric-control-plane',
    });
    // An idle connection dropped by the server must not crash the process; the next
    // probe reconnects and reports what it finds.
    this.pool.on('error', (err) => logger.debug({ err }, 'idle postgres connection lost'));
  }

  async probe(slotNames: string[]): Promise<Observed<DatabaseState>> {
    try {
      const value = await withTimeout('postgres', this.timeoutMs, this.read(slotNames));
      return { status: 'healthy', value };
    } catch (err) {
      return answeredBy(err)
        ? { status: 'unhealthy', detail: (err as Error).message }
        : { status: 'unreachable', detail: (err as Error).message };
    }
  }

  private async read(slotNames: string[]): Promise<DatabaseState> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{
        wal_head: string;
        slots: Array<{ name: string; active: boolean; lag: string | null }>;
      }>(SLOTS_SQL, [slotNames]);
      const row = rows[0]!;
      const slots = new Map(
        row.slots.map((s) => [s.name, { active: s.active, lagBytes: s.lag === null ? undefined : BigInt(s.lag) }]),
      );
      let heartbeat: Date | undefined;
      try {
        heartbeat = (await client.query<{ beat_at: Date }>(HEARTBEAT_SQL)).rows[0]?.beat_at;
      } catch (err) {
        // A database without the fabric schema has no heartbeat: unknown, not an outage.
        if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
      }
      return { walHead: row.wal_head, slots, heartbeat };
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** A SQLSTATE means the server answered (and refused); anything else means it did not answer. */
function answeredBy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
