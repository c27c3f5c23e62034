import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyDataDir } from '../src/data-dir-copy.js';
import { resolveSandboxConfig } from '../src/index.js';
import { hydrateSymlinks } from '../src/postgres-versions.js';
import { checkTopology, recordTopology } from '../src/topology-record.js';
import { errorOf } from './config-error.js';

describe('PostgreSQL version and replication mode', () => {
  it('takes 15 to 18 and either mode, from flags or the environment', () => {
    expect(resolveSandboxConfig({ postgres: '17', replication: 'physical' })).toMatchObject({
      postgres: 17,
      replication: 'physical',
    });
    expect(resolveSandboxConfig({ postgres: 15, replication: 'logical' })).toMatchObject({ postgres: 15 });
    expect(errorOf(() => resolveSandboxConfig({ postgres: '14' })).message).toBe(
      'postgres: must be one of 15, 16, 17, 18, got 14',
    );
    expect(errorOf(() => resolveSandboxConfig({ replication: 'streaming' })).path).toBe('replication');
  });

  it('refuses physical standbys on 15 and says why and what to use', () => {
    const err = errorOf(() => resolveSandboxConfig({ postgres: 15, replication: 'physical' }));
    expect(err.path).toBe('replication');
    expect(err.message).toContain('PostgreSQL 15 cannot decode WAL on a standby');
    expect(err.message).toContain('--replication logical');
    expect(err.message).toContain('--postgres 16, 17 or 18');
  });

  it('keeps a state directory on the topology it was made with', () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'topology-'));
    const physical17 = resolveSandboxConfig({ stateDir, postgres: 17, replication: 'physical' });
    checkTopology(physical17);
    recordTopology(physical17);
    checkTopology(physical17);
    const logical = resolveSandboxConfig({ stateDir, postgres: 17, replication: 'logical' });
    expect(errorOf(() => checkTopology(logical)).message).toContain('start with --replication physical');
    const on18 = resolveSandboxConfig({ stateDir, postgres: 18, replication: 'physical' });
    expect(errorOf(() => checkTopology(on18)).message).toContain('holds PostgreSQL 17 databases');
  });

  it('reads state made before the record as PostgreSQL 15 with logical replicas', () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'topology-'));
    mkdirSync(path.join(stateDir, 'postgres', 'us-east'), { recursive: true });
    writeFileSync(path.join(stateDir, 'postgres', 'us-east', 'PG_VERSION'), '15\n');
    checkTopology(resolveSandboxConfig({ stateDir, postgres: 15, replication: 'logical' }));
    expect(errorOf(() => checkTopology(resolveSandboxConfig({ stateDir, postgres: 17 }))).path).toBe('postgres');
  });
});

describe('server build install', () => {
  it('makes the library links a skipped postinstall left out, and only those', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'pg-build-'));
    mkdirSync(path.join(root, 'native', 'lib'), { recursive: true });
    writeFileSync(path.join(root, 'native', 'lib', 'libpq.so.5.17'), 'elf');
    writeFileSync(
      path.join(root, 'native', 'pg-symlinks.json'),
      JSON.stringify([
        { source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so.5' },
        { source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so' },
      ]),
    );
    expect(hydrateSymlinks(path.join(root, 'native'))).toBe(2);
    expect(readlinkSync(path.join(root, 'native', 'lib', 'libpq.so.5'))).toBe('libpq.so.5.17');
    expect(hydrateSymlinks(path.join(root, 'native'))).toBe(0);
  });
});

describe('copyDataDir', () => {
  it('copies a data directory without WAL, slots, pid file or scratch, as a base backup does', () => {
    const from = mkdtempSync(path.join(os.tmpdir(), 'pgdata-'));
    for (const dir of ['base/1', 'global', 'pg_wal/archive_status', 'pg_replslot/fabric_cdc', 'pg_stat_tmp'])
      mkdirSync(path.join(from, dir), { recursive: true });
    for (const file of [
      'PG_VERSION',
      'base/1/1259',
      'global/pg_control',
      'pg_wal/000000010000000000000001',
      'pg_replslot/fabric_cdc/state',
      'pg_stat_tmp/global.stat',
      'postmaster.pid',
      'postmaster.opts',
    ])
      writeFileSync(path.join(from, file), 'x');
    const to = path.join(mkdtempSync(path.join(os.tmpdir(), 'pgcopy-')), 'standby');
    copyDataDir(from, to);
    expect(existsSync(path.join(to, 'base/1/1259'))).toBe(true);
    expect(existsSync(path.join(to, 'global/pg_control'))).toBe(true);
    expect(readdirSync(path.join(to, 'pg_wal'))).toEqual(['archive_status']);
    expect(readdirSync(path.join(to, 'pg_replslot'))).toEqual([]);
    expect(readdirSync(path.join(to, 'pg_stat_tmp'))).toEqual([]);
    expect(existsSync(path.join(to, 'postmaster.pid'))).toBe(false);
    expect(existsSync(path.join(to, 'postmaster.opts'))).toBe(false);
  });
});
