import type pg from 'pg';

/**
 * The timeline the region's database is on, read after a position was decoded and before
 * it is recorded: a stream that carries on across a promotion (or a standby that follows a
 * new primary) records its new positions under the new timeline. A position decoded before
 * a switch and recorded after it lies in the history both timelines share (a server only
 * switches when it holds no WAL past the switch point), so the record is right either way.
 */
export class TimelineProbe {
  constructor(
    private readonly pool: pg.Pool,
    public current: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  async read(): Promise<void> {
    try {
      // A standby's receiver knows the timeline it streams; a primary names it in its WAL file.
      const { rows } = await this.pool.query<{ tli: number | null }>(
        `select case when pg_is_in_recovery() then (select received_tli from pg_stat_wal_receiver)
                     else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as tli`,
      );
      const tli = rows[0]?.tli;
      if (typeof tli === 'number' && tli > this.current) this.current = tli;
    } catch (err) {
      this.onError(err);
    }
  }
}
