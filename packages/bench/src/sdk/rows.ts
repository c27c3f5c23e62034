// The rows the SDK phase reads, apart from the ones the other phases write (their keys are
// filled with plain strings, which FabricCache would not read): one id range per
// measurement, so no measurement finds another's keys cached.
import pg from 'pg';
import { query } from '../query.js';

const BASE = 7_000_000;

export const SDK_ROWS = {
  /** warm keys of the hit latency */
  hits: { from: BASE + 1, count: 100 },
  /** the stampede's row (each trial reads it under a cold key of its own) */
  stampede: { from: BASE + 1001, count: 1 },
  /** the driven race's hot set */
  race: { from: BASE + 2001, count: 100 },
  /** the forced race, one key per row */
  forced: { from: BASE + 10_001, count: 1000 },
  /** the L1 staleness rows, one per trial */
  l1: { from: BASE + 20_001, count: 100 },
} as const;

export const idsOf = ({ from, count }: { from: number; count: number }): number[] =>
  Array.from({ length: count }, (_, i) => from + i);

/** The fabric's key rule for a user row (deploy/key-rules.demo.yaml): `user:{id}`. */
export const userKey = (id: number): string => `user:${id}`;

/** (Re)writes every SDK row at the primary with its seed value `s<id>`. */
export async function seedSdkRows(url: string): Promise<void> {
  const ranges = Object.values(SDK_ROWS);
  for (const r of ranges)
    await query(
      url,
      `insert into users (id, team_id, name, email) select g, 7, 's' || g, null from generate_series($1::bigint, $2::bigint) g
       on conflict (id) do update set name = excluded.name`,
      [r.from, r.from + r.count - 1],
    );
}

/** The database load every contender's loader runs: one row's name at the primary. */
export class RowLoader {
  readonly pool: pg.Pool;
  loads = 0;

  /** delayMs: how long the database takes per load (pg_sleep), the width of the race window. */
  constructor(
    url: string,
    private readonly delayMs = 0,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 16 });
  }

  async name(id: number): Promise<string> {
    this.loads++;
    const { rows } = await this.pool.query<{ name: string }>(
      this.delayMs > 0
        ? 'select name from users, pg_sleep($2::float8 / 1000) where id = $1'
        : 'select name from users where id = $1',
      this.delayMs > 0 ? [id, this.delayMs] : [id],
    );
    return rows[0]?.name ?? '';
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
