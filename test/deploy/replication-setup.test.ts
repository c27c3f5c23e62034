import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findPgBin, type RegionEndpoints } from '@fabric/sandbox';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support.js';
import { ROOT } from './compose-file.js';

// Runs the compose stack's replication-setup script and init SQL against the sandbox's
// real PostgreSQL clusters, in a database of their own so the sandbox's replication is
// untouched. The region name gives the subscription (and its slot on the primary) a name
// no other test uses.
const DATABASE = 'deploy_check';
const REGION = 'deploy-check';
const SUBSCRIPTION = 'fabric_sub_deploy_check';

async function sql<T = Record<string, unknown>>(region: RegionEndpoints, database: string, text: string): Promise<T[]> {
  const client = new pg.Client({ host: region.postgres.host, port: region.postgres.port, user: 'postgres', database });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('deploy/postgres/replication-setup.sh', () => {
  const endpoints = inject('endpoints');
  const primary = endpoints.regions.find((r) => r.home)!;
  const replica = endpoints.regions.find((r) => !r.home)!;
  const address = (r: RegionEndpoints) => `${r.postgres.host}:${r.postgres.port}`;

  const setup = (env: Record<string, string> = {}) =>
    spawnSync(
      'sh',
      [path.join(ROOT, 'deploy/postgres/replication-setup.sh'), address(primary), `${REGION}=${address(replica)}`],
      {
        encoding: 'utf8',
        timeout: 150_000,
        env: {
          ...process.env,
          PATH: `${findPgBin(process.env)}:${process.env.PATH}`,
          PGUSER: 'postgres',
          PGDATABASE: DATABASE,
          PGPASSWORD: '',
          ...env,
        },
      },
    );

  const cleanUp = async () => {
    // Dropping the subscription also drops its slot on the primary.
    const exists = await sql(replica, 'postgres', `select 1 from pg_database where datname = '${DATABASE}'`);
    if (exists.length > 0) await sql(replica, DATABASE, `drop subscription if exists ${SUBSCRIPTION}`);
    for (const region of [replica, primary])
      await sql(region, 'postgres', `drop database if exists ${DATABASE} with (force)`);
  };

  beforeAll(async () => {
    await cleanUp();
    const schemas = ['fabric-schema.sql', 'demo-schema.sql'].map((file) =>
      readFileSync(path.join(ROOT, 'deploy/postgres', file), 'utf8'),
    );
    for (const region of [primary, replica]) {
      await sql(region, 'postgres', `create database ${DATABASE}`);
      for (const schema of schemas) await sql(region, DATABASE, schema);
    }
    await sql(primary, DATABASE, readFileSync(path.join(ROOT, 'deploy/postgres/publication.sql'), 'utf8'));
  });

  afterAll(cleanUp);

  it('subscribes the replica and returns once every published table streams', async () => {
    const run = setup();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${REGION} subscribed (${SUBSCRIPTION})`);
    expect(run.stdout).toContain(`${REGION} streams 5 tables`);
    const [sub] = await sql<{ subenabled: boolean; subsynccommit: string }>(
      replica,
      DATABASE,
      `select subenabled, subsynccommit from pg_subscription where subname = '${SUBSCRIPTION}'`,
    );
    expect(sub).toEqual({ subenabled: true, subsynccommit: 'local' });
  });

  it('carries a row written at the primary to the replica', async () => {
    await sql(primary, DATABASE, "insert into public.teams (id, name) values (42, 'replicated by the deploy script')");
    const name = await eventually(
      'team 42 at the replica',
      async () =>
        (await sql<{ name: string }>(replica, DATABASE, 'select name from public.teams where id = 42'))[0]?.name,
    );
    expect(name).toBe('replicated by the deploy script');
  });

  it('keeps the existing subscription when run again', () => {
    const run = setup();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('subscribed');
    expect(run.stdout).toContain(`${REGION} streams 5 tables`);
  });

  it('refuses a password it would have to escape, before touching any database', () => {
    const run = setup({ PGPASSWORD: "it's" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('PGPASSWORD');
  });

  // Other suites count the sandbox's subscriptions and slots.
  it('leaves no subscription or slot behind', async () => {
    await cleanUp();
    const slots = await sql(
      primary,
      'postgres',
      `select 1 from pg_replication_slots where slot_name = '${SUBSCRIPTION}'`,
    );
    const subs = await sql(replica, 'postgres', `select 1 from pg_subscription where subname = '${SUBSCRIPTION}'`);
    expect([slots, subs]).toEqual([[], []]);
  });
});
