import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, withDb } from '../support.js';

/**
 * The guide's example (docs/sdk.md) as a user would run it: the user service in a region that
 * is not home, reading there and writing at the primary, through the real fabric.
 */
const EXAMPLE = path.resolve('packages/sdk/examples/user-service.mjs');
const PORT = 23480;
const IDS = [8_100_001, 8_100_002];

describe('docs/sdk.md example: a user service on node:http', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  const away = endpoints.regions.find((r) => !r.home)!;
  let service: ChildProcess;
  let output = '';
  const url = (id: number) => `http://127.0.0.1:${PORT}/users/${id}`;

  beforeAll(async () => {
    await withDb(home, (db) =>
      db.query(
        `insert into users (id, team_id, name, email) select g, 1, 'v0', 'guide-' || g || '@example'
         from unnest($1::bigint[]) g on conflict (id) do update set name = 'v0'`,
        [IDS],
      ),
    );
    await eventually('rows replicated to the away region', () =>
      withDb(away, async (db) =>
        (await db.query('select count(*)::int as n from users where id = any($1::bigint[])', [IDS])).rows[0].n ===
        IDS.length
          ? true
          : undefined,
      ),
    );
    service = spawn(process.execPath, [EXAMPLE], {
      env: {
        ...process.env,
        FABRIC_REGION: away.region,
        REDIS_URL: away.redis.url,
        DATABASE_URL: away.postgres.url,
        PRIMARY_URL: home.postgres.url,
        PORT: String(PORT),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout!.on('data', (d) => (output += d));
    service.stderr!.on('data', (d) => (output += d));
    await eventually(`the example listening (${output})`, async () =>
      output.includes('listening') ? true : undefined,
    );
  });
  afterAll(async () => {
    if (service && service.exitCode === null) {
      service.kill('SIGTERM');
      await new Promise((resolve) => service.once('exit', resolve));
    }
  });

  it('serves its own writes back from another region with the commit token, and caches the rest', async () => {
    const [id] = IDS;
    expect((await (await fetch(url(id!))).json()).name).toBe('v0');
    for (const name of ['Ada', 'Grace', 'Barbara']) {
      const put = await fetch(url(id!), { method: 'PUT', body: JSON.stringify({ name }) });
      expect(put.status).toBe(200);
      const token = put.headers.get('x-commit-token');
      expect(token).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      const read = await fetch(url(id!), { headers: { 'x-commit-token': token! } });
      expect((await read.json()).name, `read after writing ${name}`).toBe(name);
    }
    // Without a token the cache answers from L1 or Redis once filled.
    const second = IDS[1]!;
    await fetch(url(second));
    const again = await fetch(url(second));
    expect(['l1', 'l2']).toContain(again.headers.get('x-cache'));
  });

  it('answers 404 for an unknown id and 400 for a bad token', async () => {
    expect((await fetch(url(8_199_999))).status).toBe(404);
    const bad = await fetch(url(IDS[0]!), { headers: { 'x-commit-token': 'yesterday' } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/not a commit token/);
  });
});
