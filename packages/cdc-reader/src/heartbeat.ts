import { HEARTBEAT_TABLE } from '@fabric/contracts';
import type pg from 'pg';
import type { Logger } from 'pino';

export interface HeartbeatOptions {
  pool: pg.Pool;
  periodMs: number;
  logger: Logger;
  onError: () => void;
  /**
   * With physical standbys: log a running-transactions snapshot this often (0 = never). A
   * logical slot being created on a standby waits for one; the primary logs one by itself
   * only every 15 s, and only while it is busy.
   */
  standbySnapshotMs?: number;
}

/**
 * Writes a heartbeat row at the primary every `periodMs`. It replicates to every region
 * and every reader turns it into a heartbeat event, so freshness stays measurable while
 * the application is idle, and every slot keeps advancing instead of holding WAL.
 */
export class HeartbeatWriter {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  private lastSnapshotAt = 0;
  private snapshots: boolean;
  private withLsn = true;

  constructor(private readonly opts: HeartbeatOptions) {
    this.snapshots = (opts.standbySnapshotMs ?? 0) > 0;
  }

  start(): void {
    if (this.opts.periodMs <= 0) return;
    this.timer = setInterval(() => {
      // Skip a beat rather than pile up writes behind a slow primary.
      if (this.inFlight) return;
      this.inFlight = this.tick().finally(() => (this.inFlight = undefined));
    }, this.opts.periodMs);
  }

  /**
   * The row also carries the primary's WAL position: every transaction acknowledged before
   * the beat ends below it, and replicates ahead of the beat, so a region that applies the
   * beat has applied everything up to it, whichever LSNs its own database has (logical
   * replicas). A database whose schema predates the column still beats, without it.
   */
  async beat(): Promise<pg.QueryResult> {
    if (this.withLsn) {
      try {
        return await this.opts.pool.query(
          `insert into ${HEARTBEAT_TABLE} (id, beat_at, seq, primary_lsn) values (1, now(), 1, pg_current_wal_lsn())
           on conflict (id) do update set beat_at = now(), seq = ${HEARTBEAT_TABLE}.seq + 1, primary_lsn = pg_current_wal_lsn()`,
        );
      } catch (err) {
        if ((err as { code?: string }).code !== '42703') throw err;
        this.withLsn = false;
        this.opts.logger.warn(
          { err },
          `${HEARTBEAT_TABLE} has no primary_lsn column: apply deploy/postgres/fabric-schema.sql (replicas first); until then read-your-writes tokens wait out in logical regions`,
        );
      }
    }
    return this.opts.pool.query(
      `insert into ${HEARTBEAT_TABLE} (id, beat_at, seq) values (1, now(), 1)
       on conflict (id) do update set beat_at = now(), seq = ${HEARTBEAT_TABLE}.seq + 1`,
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.inFlight;
  }

  private async tick(): Promise<void> {
    try {
      await this.beat();
    } catch (err) {
      this.opts.onError();
      this.opts.logger.warn({ err }, 'heartbeat write failed');
    }
    if (this.snapshots && Date.now() - this.lastSnapshotAt >= this.opts.standbySnapshotMs!) {
      this.lastSnapshotAt = Date.now();
      await this.opts.pool.query('select pg_log_standby_snapshot()').catch((err: { code?: string }) => {
        // 42883: before PostgreSQL 16; 42501: the role may not (a superuser function by default).
        if (err.code !== '42883' && err.code !== '42501') return;
        this.snapshots = false;
        this.opts.logger.warn(
          { err },
          'cannot log standby snapshots here; a reader creating its slot on a standby then waits up to 15 s for the primary to log one',
        );
      });
    }
  }
}
