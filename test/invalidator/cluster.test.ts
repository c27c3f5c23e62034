import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RedisApplier } from '@fabric/invalidator';
import { FabricCache, tagKey } from '@fabric/sdk';
import { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { deferred, event } from '../sdk/helpers.js';
import { eventually } from '../support.js';
import { invalidation, invalidatorFor, producerFor } from './harness.js';

/** A throwaway three-master Redis Cluster on ports 28600-28602, owned by this file alone. */
const PORTS = [28600, 28601, 28602];
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

describe.skipIf(!hasRedis)('SDK and applier on a Redis Cluster', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fabric-cluster-'));
  const nodes: ChildProcess[] = [];
  let cluster: Cluster;

  beforeAll(async () => {
    for (const port of PORTS) {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ];
      nodes.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    await vi.waitFor(async () => Promise.all(PORTS.map((port) => pingOnce(port))), { timeout: 10_000, interval: 50 });
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...PORTS.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8' },
    );
    if (created.status !== 0) throw new Error(`cluster create failed: ${created.stdout}${created.stderr}`);
    await vi.waitFor(async () => expect(await clusterState(PORTS[0]!)).toBe('ok'), { timeout: 20_000, interval: 100 });
    cluster = new Cluster(PORTS.map((port) => ({ host: '127.0.0.1', port })));
    await vi.waitFor(async () => expect(await cluster.set('probe', '1')).toBe('OK'), {
      timeout: 10_000,
      interval: 100,
    });
  });

  afterAll(async () => {
    cluster?.disconnect();
    for (const node of nodes) node.kill('SIGTERM');
    await Promise.all(nodes.map((n) => (n.exitCode === null ? new Promise((r) => n.once('exit', r)) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a stale fill after a key invalidation, expands tags across slots, scans patterns on every master', async () => {
    const applier = new RedisApplier(cluster, pino({ level: 'silent' }));
    const cache = new FabricCache(cluster, { ttlSeconds: 60, ttlJitter: 0, leaseMs: 10_000, waitMs: 1_000 });
    const db = { value: 'old' };
    const loaded = deferred();
    const proceed = deferred();
    const reader = cache.get('user:1', async () => {
      const v = db.value;
      loaded.resolve();
      await proceed.promise;
      return v;
    });
    await loaded.promise;
    db.value = 'new';
    expect((await applier.apply([event({ keys: ['user:1'] })])).leasesRevoked).toBe(1);
    proceed.resolve();
    await reader;
    expect(await cache.get('user:1', async () => db.value)).toBe('new');

    // Members spread over many slots (and so over all three masters).
    const members = Array.from({ length: 30 }, (_, i) => `member:${i}`);
    for (const m of members) await cache.get(m, async () => m, { tags: ['team:7'] });
    for (let i = 0; i < 30; i++) await cluster.set(`scan:${i}`, 'x');
    const result = await applier.apply([
      event({ tags: ['team:7'], patterns: ['scan:*'], versions: ['ver:a', 'ver:b'] }),
    ]);
    expect(result).toMatchObject({
      keysUnlinked: 60,
      tagsExpanded: 1,
      patternsScanned: 1,
      versionsBumped: 2,
      failed: [],
    });
    for (const m of members) expect(await cluster.exists(m)).toBe(0);
    expect(await cluster.exists(tagKey('team:7'))).toBe(0);
  });

  it('runs the invalidator process against the cluster: keys over every slot, from its topic', async () => {
    const region = inject('endpoints').regions[0]!;
    const inv = await invalidatorFor(region, {
      name: 'cluster',
      redisArgs: ['--redis-cluster', PORTS.map((p) => `127.0.0.1:${p}`).join(',')],
    });
    const producer = await producerFor(region);
    try {
      await inv.start();
      const keys = Array.from({ length: 200 }, (_, i) => `cl:user:${i}`);
      for (const k of keys) await cluster.hset(k, 'd', '1', 'v', '1');
      await producer.publish(inv.topic, [
        invalidation({ keys: keys.slice(0, 100), versions: ['ver:cl'] }),
        ...keys.slice(100).map((k) => invalidation({ keys: [k] })),
      ]);
      await eventually('all 200 keys gone from the cluster', async () => {
        const left = await Promise.all(keys.map((k) => cluster.exists(k)));
        return left.every((n) => n === 0) ? true : undefined;
      });
      expect(await cluster.get('ver:cl')).toBe('1');
      expect(await inv.health()).toMatchObject({ redis: 'up', deadLettered: 0 });
    } finally {
      await producer.disconnect();
      await inv.dispose();
    }
  });
});

async function pingOnce(port: number): Promise<string> {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  r.on('error', () => undefined); // refused until the node is up; connect() rejects anyway
  try {
    await r.connect();
    return await r.ping();
  } finally {
    r.disconnect();
  }
}

async function clusterState(port: number): Promise<string | undefined> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  try {
    await r.connect();
    return (await r.cluster('INFO')).match(/cluster_state:(\w+)/)?.[1];
  } finally {
    r.disconnect();
  }
}
