import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { READER_PUBLICATION, standbyApplicationName, standbySlotName } from '@fabric/contracts';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support.js';
import { HOME, initScripts, loadCompose, postgresSettings, ROOT, serviceEnv } from './compose-file.js';
import {
  AS_POSTGRES,
  type ForegroundServer,
  freePort,
  ownedDir,
  PG_BIN,
  runForeground,
  type ScratchPostgres,
  serverArgs,
  startScratchPostgres,
} from './scratch-postgres.js';

// Runs deploy/postgres/standby-init.sh for real, as compose runs it for eu-west: against a
// primary made like the compose file's (its settings, its init scripts, the image's
// pg_hba.conf and a password), started as root where the tests run as root, with `gosu`
// standing in for the image's. Not against the sandbox's primary: Debian's pg_basebackup
// (15) refuses servers of a newer major, and the sandbox's clusters stay untouched.
const REGION = 'eu-west';
const SLOT = standbySlotName(REGION);
const NAME = standbyApplicationName(REGION);
const PASSWORD = 'compose-secret';

const compose = loadCompose({ FABRIC_TOKEN_SHA256: 'a'.repeat(64) });
const primaryService = compose.services[`${HOME}-postgres`]!;
const standbyService = compose.services[`${REGION}-postgres`]!;
const settings = postgresSettings(primaryService);

describe('deploy/postgres/standby-init.sh', () => {
  let dir: string;
  let primary: ScratchPostgres;
  let standby: ForegroundServer | undefined;
  let standbyPort: number;
  let script: string;
  let env: NodeJS.ProcessEnv;

  /** The image's entrypoint + command: sh standby-init.sh postgres -c ...; here postgres is Debian's. */
  const start = (pgdata: string, extra: NodeJS.ProcessEnv = {}) =>
    runForeground('sh', [script, path.join(PG_BIN, 'postgres'), ...serverArgs(standbyPort, dir, settings)], {
      ...env,
      PGDATA: pgdata,
      ...extra,
    });
  const streaming = () =>
    eventually(
      `${NAME} streaming from the primary`,
      async () =>
        (
          await primary.query<{ state: string }>(
            'postgres',
            `select state from pg_stat_replication where application_name = '${NAME}'`,
          )
        )[0]?.state === 'streaming' || undefined,
      30_000,
    );
  const atStandby = async <T>(text: string) => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: standbyPort,
      user: 'postgres',
      password: PASSWORD,
      database: 'fabric',
    });
    await client.connect();
    try {
      return (await client.query(text)).rows as T[];
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    dir = ownedDir(mkdtempSync(path.join(tmpdir(), 'fabric-standby-init-')));
    // The image's pg_hba.conf: trusted socket, passwords over the network, nothing for replication.
    primary = await startScratchPostgres({
      dir,
      name: 'primary',
      settings,
      password: PASSWORD,
      hba: 'local all all trust\nhost all all all scram-sha-256\n',
    });
    await primary.query('postgres', 'create database fabric');
    for (const mount of initScripts(primaryService).filter((m) => m.includes('.sql:'))) {
      const file = path.join(ROOT, mount.split(':')[0]!);
      await primary.query('fabric', readFileSync(file, 'utf8'));
    }
    // Where the compose file mounts it (as the image would, the script runs in a copy the
    // server's user can read).
    script = path.join(dir, 'standby-init.sh');
    copyFileSync(path.join(ROOT, 'deploy/postgres/standby-init.sh'), script);
    chmodSync(script, 0o644);
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    if (AS_POSTGRES.length > 0) {
      writeFileSync(
        path.join(bin, 'gosu'),
        '#!/bin/sh\nuser=$1\nshift\nexec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"\n',
      );
      chmodSync(path.join(bin, 'gosu'), 0o755);
    }
    standbyPort = await freePort();
    const vars = serviceEnv(standbyService);
    env = {
      ...process.env,
      PATH: `${bin}:${PG_BIN}:${process.env.PATH}`,
      FABRIC_PRIMARY: `127.0.0.1:${primary.port}`,
      FABRIC_STANDBY_SLOT: vars.FABRIC_STANDBY_SLOT,
      FABRIC_STANDBY_NAME: vars.FABRIC_STANDBY_NAME,
      PGUSER: vars.PGUSER,
      PGPASSWORD: PASSWORD,
    };
    expect([vars.FABRIC_STANDBY_SLOT, vars.FABRIC_STANDBY_NAME]).toEqual([SLOT, NAME]);
  });

  afterAll(async () => {
    await standby?.stop();
    primary?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('cannot take the backup before replication-access.sh lets replication in', async () => {
    const run = start(path.join(dir, 'volume-early', 'pgdata'));
    expect(await run.exited).not.toBe(0);
    expect(run.stderr()).toMatch(/no pg_hba\.conf entry for replication connection/);
    expect(existsSync(path.join(dir, 'volume-early', 'pgdata'))).toBe(false);
  });

  it('makes the data directory from a base backup on first start, and starts it as a standby', async () => {
    // As the image's entrypoint sources it on the primary's first start; then the restart.
    const access = spawnSync('sh', ['-c', `. ${path.join(ROOT, 'deploy/postgres/replication-access.sh')}`], {
      env: { ...process.env, PGDATA: primary.dataDir },
      encoding: 'utf8',
    });
    expect(access.status, access.stderr).toBe(0);
    await primary.query('postgres', 'select pg_reload_conf()');

    const pgdata = path.join(dir, 'volume', 'pgdata');
    // What a first start cut short leaves, owned as the script's own files are.
    mkdirSync(`${pgdata}.partial`, { recursive: true });
    writeFileSync(path.join(`${pgdata}.partial`, 'half-copied'), '');
    spawnSync('chown', ['-R', 'postgres:postgres', path.join(dir, 'volume')]);

    standby = start(pgdata);
    await streaming();
    expect(standby.stderr()).toContain(`made ${pgdata} a standby of 127.0.0.1:${primary.port}`);
    expect(existsSync(`${pgdata}.partial`)).toBe(false);
    expect(statSync(pgdata).mode & 0o777).toBe(0o700);

    const [slot] = await primary.query(
      'postgres',
      `select slot_type, active from pg_replication_slots where slot_name = '${SLOT}'`,
    );
    expect(slot).toEqual({ slot_type: 'physical', active: true });
    const [state] = await eventually('the standby accepting connections', async () =>
      atStandby<{ recovery: boolean; feedback: string }>(
        "select pg_is_in_recovery() as recovery, current_setting('hot_standby_feedback') as feedback",
      ),
    );
    expect(state).toEqual({ recovery: true, feedback: 'on' });
    const conninfo = (await atStandby<{ v: string }>("select current_setting('primary_conninfo') as v"))[0]!.v;
    expect(conninfo).toContain(`host=127.0.0.1 port=${primary.port}`);
    expect(conninfo).toContain(`application_name=${NAME}`);
  });

  it("brings the primary's schema and the readers' publication, and streams what the primary writes", async () => {
    const tables = await atStandby<{ t: string }>(
      `select schemaname || '.' || tablename as t from pg_publication_tables where pubname = '${READER_PUBLICATION}' order by 1`,
    );
    expect(tables.map((r) => r.t)).toEqual([
      'fabric.heartbeat',
      'fabric.outbox',
      'public.products',
      'public.teams',
      'public.users',
    ]);
    await primary.query('fabric', "insert into public.teams (id, name) values (7, 'streamed')");
    const name = await eventually(
      'team 7 at the standby',
      async () => (await atStandby<{ name: string }>('select name from public.teams where id = 7'))[0]?.name,
    );
    expect(name).toBe('streamed');
  });

  it('only starts the server on an existing standby', async () => {
    expect(await standby!.stop()).toBe(0);
    const pgdata = path.join(dir, 'volume', 'pgdata');
    const backupLabel = readFileSync(path.join(pgdata, 'backup_label.old'), 'utf8');
    standby = start(pgdata);
    await streaming();
    expect(standby.stderr()).toContain(`${pgdata} is a standby of 127.0.0.1:${primary.port}; starting it`);
    expect(standby.stderr()).not.toContain('taking a base backup');
    // Same data directory: no second backup replaced it.
    expect(readFileSync(path.join(pgdata, 'backup_label.old'), 'utf8')).toBe(backupLabel);
  });

  it('refuses a directory that is neither empty nor a data directory, and leaves it as it was', async () => {
    const stray = path.join(dir, 'stray', 'pgdata');
    mkdirSync(stray, { recursive: true });
    writeFileSync(path.join(stray, 'notes.txt'), 'not a database');
    const run = start(stray);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('neither empty nor a data directory');
    expect(readFileSync(path.join(stray, 'notes.txt'), 'utf8')).toBe('not a database');
  });

  it('refuses a slot name it would have to quote, before touching anything', async () => {
    const run = start(path.join(dir, 'volume-bad', 'pgdata'), { FABRIC_STANDBY_SLOT: "x'; drop" });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('must be a lowercase identifier');
    expect(existsSync(path.join(dir, 'volume-bad'))).toBe(false);
  });
});
