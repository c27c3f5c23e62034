import { readFileSync } from 'node:fs';
import path from 'node:path';
import { standbyApplicationName, standbySlotName } from '@fabric/contracts';
import { hashToken, validateControlPlaneConfig } from '@fabric/control-plane';
import { describe, expect, it } from 'vitest';
import {
  type ComposeFile,
  HOME,
  initScripts,
  LOGICAL,
  loadCompose,
  PHYSICAL,
  postgresSettings,
  REGIONS,
  ROOT,
  STANDBYS,
  serviceEnv,
} from './compose-file.js';

// How the databases follow the primary: physical standbys by default, logical replicas
// with docker-compose.logical.yml on top. What standby-init.sh and replication-setup.sh do
// with these settings is tested by running them (standby-init.test.ts, replication-setup.test.ts).
const env = { FABRIC_TOKEN_SHA256: hashToken('compose-test') };
const physical = loadCompose(env, PHYSICAL);
const logical = loadCompose(env, LOGICAL);

const service = (compose: ComposeFile, name: string) => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};
const controlPlane = (compose: ComposeFile) =>
  validateControlPlaneConfig(JSON.parse(compose.configs['control-plane']!.content!), '/etc/fabric');

const SCHEMA = [
  './deploy/postgres/fabric-schema.sql:/docker-entrypoint-initdb.d/05-fabric-schema.sql:ro',
  './deploy/postgres/demo-schema.sql:/docker-entrypoint-initdb.d/10-demo-schema.sql:ro',
];
const STANDBY_INIT = './deploy/postgres/standby-init.sh:/fabric/standby-init.sh:ro';

describe('docker-compose.regions.yml databases (physical standbys)', () => {
  const primary = service(physical, `${HOME}-postgres`);

  it('runs PostgreSQL 17 with logical WAL, the same settings in every region', () => {
    for (const region of REGIONS) {
      const pg = service(physical, `${region}-postgres`);
      expect(pg.image, region).toBe('postgres:17');
      // A standby refuses to start with fewer senders, slots or workers than its primary.
      expect(pg.command, region).toEqual(primary.command);
    }
    const settings = postgresSettings(primary);
    expect(primary.command![0]).toBe('postgres');
    expect(settings.wal_level).toBe('logical');
    expect(Number(settings.max_replication_slots)).toBeGreaterThanOrEqual(10);
    expect(Number(settings.max_wal_senders)).toBeGreaterThanOrEqual(10);
    expect(primary.environment?.POSTGRES_DB).toBe('fabric');
  });

  it('creates the schema, replication access and both publications once, at the primary', () => {
    expect(primary.entrypoint).toBeUndefined();
    // The fabric's own tables first, then the application's (here the demo's).
    expect(initScripts(primary)).toEqual([
      ...SCHEMA,
      './deploy/postgres/replication-access.sh:/docker-entrypoint-initdb.d/15-replication-access.sh:ro',
      './deploy/postgres/publication.sql:/docker-entrypoint-initdb.d/20-publication.sql:ro',
      './deploy/postgres/reader-publication.sql:/docker-entrypoint-initdb.d/30-reader-publication.sql:ro',
    ]);
  });

  it.each(STANDBYS)('makes %s a standby of the primary on first start, through its own slot', (region) => {
    const pg = service(physical, `${region}-postgres`);
    // standby-init.sh runs first and hands over to the image's entrypoint with the command.
    expect(pg.entrypoint).toEqual(['/bin/sh', '/fabric/standby-init.sh', 'docker-entrypoint.sh']);
    expect(pg.volumes).toContain(STANDBY_INIT);
    // A standby runs no init scripts: it gets everything from the primary.
    expect(initScripts(pg)).toEqual([]);
    const vars = serviceEnv(pg);
    const primaryVars = serviceEnv(primary);
    expect(vars.FABRIC_PRIMARY).toBe(`${HOME}-postgres:5432`);
    expect(primary.networks).toContain('interregion');
    expect(pg.networks).toContain('interregion');
    expect(vars.FABRIC_STANDBY_SLOT).toBe(standbySlotName(region));
    expect(vars.FABRIC_STANDBY_NAME).toBe(standbyApplicationName(region));
    expect([vars.PGUSER, vars.PGPASSWORD]).toEqual([primaryVars.POSTGRES_USER, primaryVars.POSTGRES_PASSWORD]);
    // The data directory one level below the volume, so the backup can be renamed into place.
    const volume = pg.volumes!.find((v) => v.startsWith(`${region}-postgres:`))!;
    expect(path.posix.dirname(vars.PGDATA!)).toBe(volume.split(':')[1]);
  });

  it('gives standby-init.sh every setting it reads', () => {
    const script = readFileSync(path.join(ROOT, 'deploy/postgres/standby-init.sh'), 'utf8');
    const read = new Set([...script.matchAll(/\$\{?(FABRIC_[A-Z_]+)/g)].map((m) => m[1]));
    for (const region of STANDBYS)
      expect(
        new Set(
          Object.keys(serviceEnv(service(physical, `${region}-postgres`))).filter((k) => k.startsWith('FABRIC_')),
        ),
        region,
      ).toEqual(read);
  });

  it('has the control plane measure the slots and names the standbys stream under', () => {
    const config = controlPlane(physical);
    expect(config.replication).toBe('physical');
    for (const region of STANDBYS) {
      const vars = serviceEnv(service(physical, `${region}-postgres`));
      const measured = config.regions.find((r) => r.name === region)!;
      expect([measured.standbySlot, measured.standbyApplicationName]).toEqual([
        vars.FABRIC_STANDBY_SLOT,
        vars.FABRIC_STANDBY_NAME,
      ]);
    }
  });

  it('subscribes nothing: no replication-setup one-shot', () => {
    expect(physical.services['replication-setup']).toBeUndefined();
  });
});

describe('docker-compose.logical.yml (logical replicas)', () => {
  it.each(STANDBYS)('starts %s as a database of its own with the schemas, without publications', (region) => {
    const pg = service(logical, `${region}-postgres`);
    expect(pg.entrypoint).toEqual(['docker-entrypoint.sh']);
    expect(pg.command).toEqual(service(physical, `${HOME}-postgres`).command);
    expect(initScripts(pg)).toEqual(SCHEMA);
  });

  it('keeps the primary exactly as in physical mode', () => {
    expect(service(logical, `${HOME}-postgres`)).toEqual(service(physical, `${HOME}-postgres`));
  });

  it('subscribes every replica to the primary once all databases are healthy', () => {
    const setup = service(logical, 'replication-setup');
    expect(setup.image).toBe(service(physical, `${HOME}-postgres`).image);
    expect(setup.command).toEqual([
      '/bin/sh',
      '/fabric/replication-setup.sh',
      `${HOME}-postgres`,
      ...STANDBYS.map((r) => `${r}=${r}-postgres`),
    ]);
    expect(setup.volumes).toEqual(['./deploy/postgres/replication-setup.sh:/fabric/replication-setup.sh:ro']);
    expect(Object.keys(setup.depends_on ?? {}).sort()).toEqual(REGIONS.map((r) => `${r}-postgres`).sort());
    expect(setup.environment?.PGDATABASE).toBe('fabric');
  });

  it('changes only the replicas, the readers, the one-shot and the control plane mode', () => {
    const changed = [...STANDBYS.map((r) => `${r}-postgres`), ...REGIONS.map((r) => `${r}-cdc-reader`)];
    for (const [name, s] of Object.entries(physical.services))
      if (!changed.includes(name)) expect(logical.services[name], name).toEqual(s);
    expect(Object.keys(logical.services).sort()).toEqual(
      [...Object.keys(physical.services), 'replication-setup'].sort(),
    );
    const { replication: a, ...physicalConfig } = JSON.parse(physical.configs['control-plane']!.content!);
    const { replication: b, ...logicalConfig } = JSON.parse(logical.configs['control-plane']!.content!);
    expect([a, b]).toEqual(['physical', 'logical']);
    expect(logicalConfig).toEqual(physicalConfig);
    expect(controlPlane(logical).replication).toBe('logical');
  });
});
