import { type ChildProcess, execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ControlPlaneClient } from '@fabric/control-plane';
import type { RegionLag } from '@fabric/proto';
import type { RegionEndpoints, SandboxEndpoints } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFabricUp } from '../fabric-up.js';
import { eventually, withDb } from '../support.js';

/**
 * The operator's view through the whole job: `fabric up` (readers, invalidators, control
 * plane in every region), then GetLag and the `fabric` CLI while replication is cut and
 * while a region's Redis refuses events for their data. Own ports and state, beside the shared test sandbox.
 */
const CLI = path.resolve('packages/cli/dist/bin.js');
const STATE_DIR = path.resolve('.fabric/test-pipeline');
const PORT_BASE = 30700;
const run = promisify(execFile);

describe('control plane over the running fabric', () => {
  let child: ChildProcess;
  let endpoints: SandboxEndpoints;
  let client: ControlPlaneClient;
  let home: RegionEndpoints;
  const ids = Array.from({ length: 20 }, (_, i) => 6_100_000 + i);

  beforeAll(async () => {
    rmSync(STATE_DIR, { recursive: true, force: true });
    const ready = await startFabricUp(['--port-base', String(PORT_BASE), '--state-dir', STATE_DIR]);
    child = ready.child;
    endpoints = ready.endpoints;
    home = endpoints.regions.find((r) => r.home)!;
    const tokens = JSON.parse(readFileSync(ready.tokensFile!, 'utf8')) as { read: string; admin: string };
    client = new ControlPlaneClient({
      address: `${endpoints.controlPlane.host}:${endpoints.controlPlane.port}`,
      token: tokens.read,
    });
    await withDb(home, (db) =>
      db.query(
        `insert into users (id, team_id, name) select g, 1, 'v0' from generate_series($1::bigint, $2::bigint) g`,
        [ids[0], ids.at(-1)],
      ),
    );
    for (const r of endpoints.regions) {
      await eventually(
        `${r.region} replicated the rows`,
        () =>
          withDb(r, async (db) =>
            (await db.query('select count(*)::int as n from users where id = any($1::bigint[])', [ids])).rows[0].n ===
            ids.length
              ? true
              : undefined,
          ),
        30_000,
      );
    }
  }, 120_000);
  afterAll(async () => {
    client?.close();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  const lagOf = async (region: string): Promise<RegionLag> => (await client.lag.getLag({ region })).regions[0]!;
  const fabric = async (...args: string[]) =>
    (await run(process.execPath, [CLI, ...args, '--state-dir', STATE_DIR, '--json'], { maxBuffer: 16 * 1024 * 1024 }))
      .stdout;
  const redisOf = (r: RegionEndpoints) => new Redis(r.redis.url, { maxRetriesPerRequest: 1 });

  it('reports every region healthy and fresh while the fabric runs', async () => {
    await eventually(
      'all regions healthy and fresh',
      async () => {
        const { regions } = JSON.parse(await fabric('lag')) as {
          regions: Array<{ region: string; status: string; freshnessSeconds?: number }>;
        };
        return regions.length === 3 &&
          regions.every((r) => r.status === 'REGION_STATUS_HEALTHY' && (r.freshnessSeconds ?? 99) < 3)
          ? true
          : undefined;
      },
      30_000,
    );
  });

  it('shows a region cut off from the primary as growing replication lag and freshness, and recovers with the caches converging', async () => {
    const edge = endpoints.regions.find((r) => !r.home)!;
    const key = `user:${ids[0]}`;
    const redis = redisOf(edge);
    // A standby stops replaying; a logical replica's subscription is disabled.
    const subscription = `fabric_sub_${edge.region.replaceAll('-', '_')}`;
    const [cutOff, reconnect] =
      endpoints.replication === 'physical'
        ? ['select pg_wal_replay_pause()', 'select pg_wal_replay_resume()']
        : [`alter subscription ${subscription} disable`, `alter subscription ${subscription} enable`];
    try {
      await withDb(edge, (db) => db.query(cutOff));
      await redis.hset(key, 'd', JSON.stringify('v0'), 'v', '1');
      await withDb(home, (db) => db.query('update users set name = $2 where id = $1', [ids[0], 'v1']));

      const cut = await eventually(
        'replication lag and freshness growing',
        async () => {
          const lag = await lagOf(edge.region);
          return (lag.replicationLagSeconds ?? 0) > 4 &&
            (lag.freshnessSeconds ?? 0) > 4 &&
            (lag.replicationLagBytes ?? 0n) > 0n
            ? lag
            : undefined;
        },
        30_000,
      );
      // The region's database lacks the change, so its cache rightly still holds v0; home is unaffected.
      expect(await redis.exists(key)).toBe(1);
      expect((await lagOf(home.region)).freshnessSeconds).toBeLessThan(3);

      await withDb(edge, (db) => db.query(reconnect));
      const healed = await eventually(
        'replication lag and freshness recovered',
        async () => {
          const lag = await lagOf(edge.region);
          return (lag.replicationLagSeconds ?? 99) < 2 && (lag.freshnessSeconds ?? 99) < 2 ? lag : undefined;
        },
        60_000,
      );
      await eventually(
        'the region cache converged',
        async () => ((await redis.exists(key)) === 0 ? true : undefined),
        30_000,
      );
      process.stderr.write(
        `[control-plane] ${edge.region} cut: replication ${cut.replicationLagSeconds?.toFixed(1)} s / ${cut.replicationLagBytes} B, freshness ${cut.freshnessSeconds?.toFixed(1)} s; healed: ${healed.replicationLagSeconds?.toFixed(1)} s, freshness ${healed.freshnessSeconds?.toFixed(1)} s\n`,
      );
    } finally {
      // A failure above must not leave the region cut off for the next test.
      await withDb(edge, (db) => db.query(reconnect));
      redis.disconnect();
    }
  });

  it('dead-letters events Redis refuses for their own data, and a replay removes every affected key exactly once', async () => {
    const far = endpoints.regions.find((r) => !r.home && r !== endpoints.regions.find((x) => !x.home))!;
    const keys = ids.map((id) => `user:${id}`);
    const versionKeys = ids.map((id) => `ver:user:${id}`);
    // A version key that is not a number fails the event that bumps it, and only that event:
    // the DLQ's case (a Redis outage would block the partition instead, and lose nothing).
    const redis = redisOf(far);
    try {
      await redis.mset(...versionKeys.flatMap((k) => [k, 'not-a-version']));
      await withDb(home, (db) => db.query(`update users set name = 'v2-' || id where id = any($1::bigint[])`, [ids]));
      await eventually(
        'every update dead-lettered',
        async () => {
          const page = JSON.parse(await fabric('dlq', 'ls', '--region', far.region, '--limit', '500')) as {
            deadLetters: Array<{ event?: { keys?: string[] } }>;
          };
          const dead = new Set(page.deadLetters.flatMap((d) => d.event?.keys ?? []));
          return keys.every((k) => dead.has(k)) ? true : undefined;
        },
        120_000,
      );
      expect((await lagOf(far.region)).deadLetters).toBeGreaterThanOrEqual(BigInt(ids.length));

      // The operator repairs the data. The cache meanwhile holds old values again (a fill
      // raced the failed events): the replay has something to remove.
      await redis.unlink(...versionKeys);
      for (const k of keys) await redis.hset(k, 'd', JSON.stringify('v1'), 'v', '1');

      const first = JSON.parse(await fabric('dlq', 'replay', '--region', far.region)) as {
        replayed: string;
        skipped: string;
        done: boolean;
      };
      expect(first.done).toBe(true);
      expect(Number(first.replayed), JSON.stringify(first)).toBeGreaterThanOrEqual(ids.length);
      await eventually(
        'every affected key gone',
        async () => ((await redis.exists(...keys)) === 0 ? true : undefined),
        30_000,
      );

      // A second replay publishes nothing: the operator sees each event applied once.
      const second = JSON.parse(await fabric('dlq', 'replay', '--region', far.region)) as {
        replayed: string;
        skipped: string;
      };
      expect(Number(second.replayed)).toBe(0);
      expect(Number(second.skipped)).toBe(Number(first.replayed));
      // Measured, and zero: unset would mean the control plane could not count them.
      expect((await lagOf(far.region)).deadLetters).toBe(0n);
    } finally {
      redis.disconnect();
    }
  }, 240_000);
});
