// Seeds N users at the primary, waits for every region's database and the fabric to settle.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RegionEndpoints } from '@fabric/sandbox';
import type { Progress } from './progress.js';
import { query } from './query.js';

export async function seedUsers(
  home: RegionEndpoints,
  regions: readonly RegionEndpoints[],
  n: number,
  progress: Progress,
): Promise<void> {
  await query(
    home.postgres.url,
    `insert into users (id, team_id, name, email) select g, g % 100, 's' || g, 'u' || g || '@bench' from generate_series(1, $1) g
     on conflict (id) do update set name = excluded.name`,
    [n],
  );
  for (const r of regions) {
    for (let i = 0; ; i++) {
      const { rows } = await query<{ n: number }>(
        r.postgres.url,
        'select count(*)::int as n from users where id <= $1',
        [n],
      );
      const have = rows[0]?.n ?? 0;
      if (have >= n) break;
      if (i % 10 === 0) progress(`waiting for ${r.region} replica: ${have}/${n} rows`);
      await sleep(500);
    }
  }
}

/** id -> name at a database (ground truth for fills and stale counts). */
export async function currentValues(url: string, n: number): Promise<Map<number, string>> {
  const { rows } = await query<{ id: number; name: string }>(
    url,
    'select id::int as id, name from users where id <= $1',
    [n],
  );
  return new Map(rows.map((r) => [r.id, r.name]));
}
