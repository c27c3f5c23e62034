import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  DATABASE,
  defaultKafkaLibs,
  ensurePublication,
  ensureSchema,
  ensureSubscription,
  findBinaries,
  logicalFailover,
  postgresUser,
  type RegionEndpoints,
  type ServiceProcess,
  startPostgres,
  waitForSubscriptionSync,
} from '@fabric/sandbox';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support.js';

/**
 * Three PostgreSQL servers of this suite's own (21710-21712) in the logical topology, and
 * a failover from the first to the second with a write at the new primary the moment it
 * becomes home: the old primary, which subscribes last, must still receive that write.
 */
const PORTS = [21710, 21711, 21712];
// /var/tmp: the postgres user a root run hands the servers to must reach the data directories.
const DIR = '/var/tmp/fabric-failover-logical';
const logger = pino({ level: 'warn' });

describe('a logical failover', () => {
  const servers: ServiceProcess[] = [];
  const regions = ['us-east', 'eu-west', 'ap-south'].map(
    (region, i) => ({ region, home: i === 0, postgres: { host: '127.0.0.1', port: PORTS[i]! } }) as RegionEndpoints,
  );
  const db = (r: RegionEndpoints) => ({ region: r.region, host: r.postgres.host, port: r.postgres.port });
  const sql = async (r: RegionEndpoints, text: string, values: unknown[] = []) => {
    const client = new pg.Client({
      host: r.postgres.host,
      port: r.postgres.port,
      database: DATABASE,
      user: 'postgres',
    });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    const bin = findBinaries(defaultKafkaLibs());
    for (const r of regions)
      servers.push(
        await startPostgres({
          region: r.region,
          host: r.postgres.host,
          port: r.postgres.port,
          dataDir: path.join(DIR, r.region),
          logFile: path.join(DIR, `${r.region}.log`),
          pgBin: bin.pgBin,
          setpriv: bin.setpriv,
          runAs: postgresUser(),
          logger,
        }),
      );
    for (const r of regions) await ensureSchema(db(r));
    const [home, ...replicas] = regions;
    await ensurePublication(db(home!));
    for (const r of replicas) {
      await ensureSubscription(db(r), db(home!));
      await waitForSubscriptionSync(db(r), logger);
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.stop(10_000);
    rmSync(DIR, { recursive: true, force: true });
  });

  it('carries a write the new primary takes the moment it is home to the old primary too', async () => {
    const [old, target, other] = regions as [RegionEndpoints, RegionEndpoints, RegionEndpoints];
    await sql(old, "insert into teams (id, name) values (1, 'before')");
    const steps: string[] = [];
    await logicalFailover(
      regions,
      old,
      target,
      async (name, region, work) => {
        steps.push(`${name} ${region}: ${await work()}`);
        // A writer that follows the home record at once: it commits at the target before the
        // old primary has subscribed again.
        if (name === 'home') await sql(target, "insert into teams (id, name) values (2, 'at the new home')");
      },
      () => {},
    );
    expect(steps.map((s) => s.split(':')[0])).toEqual([
      'fence us-east',
      'catch-up eu-west',
      'catch-up ap-south',
      'promote eu-west',
      'repoint ap-south',
      'slots eu-west',
      'home eu-west',
      'repoint us-east',
    ]);
    for (const r of [old, other])
      await eventually(
        `${r.region} has the write made at the new home`,
        async () => ((await sql(r, 'select name from teams where id = 2'))[0]?.name as string | undefined) ?? undefined,
        20_000,
      );
    // The old primary is writable again, and what it holds is the new primary's.
    expect(await sql(old, 'select id::int, name from teams order by id')).toEqual([
      { id: 1, name: 'before' },
      { id: 2, name: 'at the new home' },
    ]);
  }, 120_000);
});
