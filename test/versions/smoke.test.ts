import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { RegionEndpoints, SandboxEndpoints } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startFabricUp, stopFabricUp } from '../fabric-up.js';
import { eventually, withDb } from '../support.js';

/**
 * The whole fabric on each PostgreSQL major the shared suite does not run on: three
 * regions as physical standbys through the real `fabric up`, readers and invalidators
 * included. A row change at the primary and an explicit logical message must each empty
 * the key in every region's Redis.
 */
const VERSIONS = (process.env.FABRIC_TEST_SMOKE_POSTGRES ?? '16,18').split(',').map(Number);
const started: ChildProcess[] = [];
const stateDirs: string[] = [];

async function up(version: number, portBase: number, stateDir: string): Promise<SandboxEndpoints> {
  const args = ['--postgres', String(version), '--replication', 'physical', '--port-base', String(portBase)];
  const ready = await startFabricUp([...args, '--state-dir', stateDir]);
  started.push(ready.child);
  return ready.endpoints;
}

async function everyRegionDrops(
  regions: RegionEndpoints[],
  key: string,
  change: () => Promise<unknown>,
): Promise<void> {
  const caches = regions.map((r) => new Redis(r.redis.port, r.redis.host, { lazyConnect: true }));
  try {
    await Promise.all(caches.map((c) => c.set(key, 'cached')));
    for (const c of caches) expect(await c.exists(key)).toBe(1);
    await change();
    await Promise.all(
      caches.map((c, i) =>
        eventually(
          `${key} gone in ${regions[i]!.region}`,
          async () => ((await c.exists(key)) === 0 ? true : undefined),
          30_000,
        ),
      ),
    );
  } finally {
    caches.forEach((c) => c.disconnect());
  }
}

describe.sequential('every supported PostgreSQL major, physical standbys', () => {
  afterEach(async () => {
    for (const child of started.splice(0)) await stopFabricUp(child);
    for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  VERSIONS.forEach((version, i) => {
    it(`PostgreSQL ${version}: a row change and a logical message empty the key in every region`, async () => {
      const stateDir = path.resolve(`.fabric/test-pg${version}`);
      rmSync(stateDir, { recursive: true, force: true });
      stateDirs.push(stateDir);
      const endpoints = await up(version, 29500 + i * 100, stateDir);
      const primary = endpoints.regions.find((r) => r.home)!;
      const server = await withDb(primary, async (db) => (await db.query('show server_version_num')).rows[0]);
      expect(Math.floor(Number(server.server_version_num) / 10_000)).toBe(version);
      expect(endpoints.replication).toBe('physical');

      await everyRegionDrops(endpoints.regions, 'user:7001', () =>
        withDb(primary, (db) =>
          db.query("insert into users (id, name) values (7001, 'smoke') on conflict (id) do update set name = 'again'"),
        ),
      );
      await everyRegionDrops(endpoints.regions, 'smoke:message', () =>
        withDb(primary, (db) =>
          db.query(`select pg_logical_emit_message(true, 'fabric', '{"keys": ["smoke:message"]}')`),
        ),
      );
    });
  });
});
