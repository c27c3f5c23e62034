// Seeds N users at the primary, waits for every region's database and the fabric to settle.
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

export async function query(url, sql, params) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

export async function seedUsers(home, regions, n, progress) {
  await query(home.postgres.url,
    `insert into users (id, team_id, name, email) select g, g % 100, 's' || g, 'u' || g || '@bench' from generate_series(1, $1) g
     on conflict (id) do update set name = excluded.name`, [n]);
  for (const r of regions) {
    for (let i = 0; ; i++) {
      const { rows } = await query(r.postgres.url, 'select count(*)::int as n from users where id <= $1', [n]);
      if (rows[0].n >= n) break;
      if (i % 10 === 0) progress(`waiting for ${r.region} replica: ${rows[0].n}/${n} rows`);
      await sleep(500);
    }
  }
}

/** id -> name at a database (ground truth for fills and stale counts). */
export async function currentValues(url, n) {
  const { rows } = await query(url, 'select id::int as id, name from users where id <= $1', [n]);
  return new Map(rows.map((r) => [r.id, r.name]));
}
