import { HEARTBEAT_TABLE } from '@fabric/contracts';
import pg from 'pg';
import type { Logger } from 'pino';
import { type Observed, withTimeout } from './observed.js';

export interface SlotState {
  active: boolean;
  /** WAL head minus confirmed_flush_lsn; undefined while the slot has confirmed nothing. */
  lagBytes: bigint | undefined;
  /**
   * pg_replication_slots.wal_status: "reserved" or "extended" while the slot's WAL is kept,
   * "unreserved" when it is about to be removed (max_slot_wal_keep_size), "lost" once the
   * slot can no longer be used; undefined before PostgreSQL 13 or for a slot with no WAL yet.
   */
  walStatus: string | undefined;
}

/** A physical standby as the primary sees it in pg_stat_replication. */
export interface StandbyState {
  state: string;
  /** WAL the primary wrote that the standby has not replayed yet. */
  replayLagBytes: bigint | undefined;
  /** PostgreSQL's own measures of how long WAL took to be written, flushed and replayed there. */
  writeLagSeconds: number | undefined;
  flushLagSeconds: number | undefined;
  replayLagSeconds: number | undefined;
}

export interface DatabaseState {
  /** The WAL position this database has: the write position of a primary, the replay position of a standby. */
  walHead: string;
  /** A physical standby (in recovery). */
  standby: boolean;
  /** Standby only: when the last transaction it replayed committed at the primary. */
  lastReplayTime: Date | undefined;
  /** Only the slots that were asked for and exist. */
  slots: Map<string, SlotState>;
  /** Primary only: the standbys streaming from it, by application_name. */
  standbys: Map<string, StandbyState>;
  /** fabric.heartbeat.beat_at as this database has it (replicated from the primary). */
  heartbeat: Date | undefined;
}

// A standby has no write position (pg_current_wal_lsn() fails in recovery): what it has
// replayed is what its readers can decode, so that is its head.
const SLOTS_SQL = `
  with head as (
    select pg_is_in_recovery() as standby,
           case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end as lsn)
  select head.lsn::text as wal_head, head.standby,
         case when head.standby then pg_last_xact_replay_timestamp() end as last_replay_time,
         coalesce((select json_agg(json_build_object(
                     'name', slot_name,
                     'active', active,
                     'wal_status', wal_status,
                     'lag', pg_wal_lsn_diff(head.lsn,
                       case when slot_type = 'physical' then restart_lsn else confirmed_flush_lsn end)::bigint::text))
                   from pg_replication_slots where slot_name = any($1::text[])), '[]'::json) as slots,
         coalesce((select json_agg(json_build_object(
                     'name', application_name,
                     'state', state,
                     'replay_bytes', pg_wal_lsn_diff(head.lsn, replay_lsn)::bigint::text,
                     'write_lag', extract(epoch from write_lag),
                     'flush_lag', extract(epoch from flush_lag),
                     'replay_lag', extract(epoch from replay_lag)))
                   from pg_stat_replication where not head.standby), '[]'::json) as standbys
    from head`;
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
        standby: boolean;
        last_replay_time: Date | null;
        slots: Array<{ name: string; active: boolean; lag: string | null; wal_status: string | null }>;
        standbys: StandbyRow[];
      }>(SLOTS_SQL, [slotNames]);
      const row = rows[0]!;
      const slots = new Map(
        row.slots.map((s) => [
          s.name,
          {
            active: s.active,
            lagBytes: s.lag === null ? undefined : BigInt(s.lag),
            walStatus: s.wal_status ?? undefined,
          },
        ]),
      );
      const standbys = new Map(row.standbys.map((s) => [s.name, standbyState(s)]));
      let heartbeat: Date | undefined;
      try {
        heartbeat = (await client.query<{ beat_at: Date }>(HEARTBEAT_SQL)).rows[0]?.beat_at;
      } catch (err) {
        // A database without the fabric schema has no heartbeat: unknown, not an outage.
        if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
      }
      return {
        walHead: row.wal_head,
        standby: row.standby,
        lastReplayTime: row.last_replay_time ?? undefined,
        slots,
        standbys,
        heartbeat,
      };
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

interface StandbyRow {
  name: string;
  state: string;
  replay_bytes: string | null;
  write_lag: number | null;
  flush_lag: number | null;
  replay_lag: number | null;
}

function standbyState(row: StandbyRow): StandbyState {
  return {
    state: row.state,
    replayLagBytes: row.replay_bytes === null ? undefined : BigInt(row.replay_bytes),
    // NULL: nothing to measure (PostgreSQL clears these while the standby is caught up and idle).
    writeLagSeconds: row.write_lag ?? undefined,
    flushLagSeconds: row.flush_lag ?? undefined,
    replayLagSeconds: row.replay_lag ?? undefined,
  };
}

/** A SQLSTATE means the server answered (and refused); anything else means it did not answer. */
function answeredBy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
