import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { subscriptionName } from '@fabric/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support.js';
import { ROOT } from './compose-file.js';
import { ownedDir, PG_BIN, type ScratchPostgres, startScratchPostgres } from './scratch-postgres.js';

// Runs the logical mode's replication-setup script and init SQL against a primary and a
// replica of the test's own: the sandbox's other regions are read-only physical standbys
// by default, and a subscription there (or a slot at its primary) would disturb the suites
// that count them. What the script does is the same on any major the fabric supports.
const DATABASE = 'fabric';
const REGION = 'eu-west';
const SUBSCRIPTION = subscriptionName(REGION);

describe('deploy/postgres/replication-setup.sh', () => {
  let dir: string;
  let primary: ScratchPostgres;
  let replica: ScratchPostgres;

  const setup = (env: Record<string, string> = {}) =>
    spawnSync(
      'sh',
      [
        path.join(ROOT, 'deploy/postgres/replication-setup.sh'),
        `127.0.0.1:${primary.port}`,
        `${REGION}=127.0.0.1:${replica.port}`,
      ],
      {
        encoding: 'utf8',
        timeout: 150_000,
        env: {
          ...process.env,
          PATH: `${PG_BIN}:${process.env.PATH}`,
          PGUSER: 'postgres',
          PGDATABASE: DATABASE,
          PGPASSWORD: '',
          ...env,
        },
      },
    );

  beforeAll(async () => {
    dir = ownedDir(mkdtempSync(path.join(tmpdir(), 'fabric-replication-setup-')));
    const settings = { wal_level: 'logical' };
    primary = await startScratchPostgres({ dir, name: 'primary', settings });
    replica = await startScratchPostgres({ dir, name: 'replica', settings });
    const schemas = ['fabric-schema.sql', 'demo-schema.sql'].map((file) =>
      readFileSync(path.join(ROOT, 'deploy/postgres', file), 'utf8'),
    );
    for (const db of [primary, replica]) {
      await db.query('postgres', `create database ${DATABASE}`);
      for (const schema of schemas) await db.query(DATABASE, schema);
    }
    await primary.query(DATABASE, readFileSync(path.join(ROOT, 'deploy/postgres/publication.sql'), 'utf8'));
  });

  afterAll(() => {
    // The subscription's slot is on the primary: both go with their directory.
    replica?.stop();
    primary?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('subscribes the replica and returns once every published table streams', async () => {
    const run = setup();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${REGION} subscribed (${SUBSCRIPTION})`);
    expect(run.stdout).toContain(`${REGION} streams 5 tables`);
    const [sub] = await replica.query<{ subenabled: boolean; subsynccommit: string }>(
      DATABASE,
      `select subenabled, subsynccommit from pg_subscription where subname = '${SUBSCRIPTION}'`,
    );
    expect(sub).toEqual({ subenabled: true, subsynccommit: 'local' });
  });

  it('carries a row written at the primary to the replica', async () => {
    await primary.query(DATABASE, "insert into public.teams (id, name) values (42, 'replicated by the deploy script')");
    const name = await eventually(
      'team 42 at the replica',
      async () =>
        (await replica.query<{ name: string }>(DATABASE, 'select name from public.teams where id = 42'))[0]?.name,
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
});
