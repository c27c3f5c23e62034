import { HEARTBEAT_TABLE } from '@fabric/contracts';
import type pg from 'pg';
import type { Logger } from 'pino';

/**
 * Writes a heartbeat row at the primary every `periodMs`. It replicates to every region
 * and every reader turns it into a heartbeat event, so freshness stays measurable while
 * the application is idle, and every slot keeps advancing instead of holding WAL.
 */
export class HeartbeatWriter {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly periodMs: number,
    private readonly logger: Logger,
    private readonly onError: () => void,
  ) {}

  start(): void {
    if (this.periodMs <= 0) return;
    this.timer = setInterval(() => {
      // Skip a beat rather than pile up writes behind a slow primary.
      if (this.inFlight) return;
      this.inFlight = this.beat()
        .catch((err: unknown) => {
          this.onError();
          this.logger.warn({ err }, 'heartbeat write failed');
        })
        .finally(() => (this.inFlight = undefined));
    }, this.periodMs);
  }

  beat(): Promise<pg.QueryResult> {
    return this.pool.query(
      `insert into ${HEARTBEAT_TABLE} (id, beat_at, seq) values (1, now(), 1)
       on conflict (id) do update set beat_at = now(), seq = ${HEARTBEAT_TABLE}.seq + 1`,
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.inFlight;
  }
}
