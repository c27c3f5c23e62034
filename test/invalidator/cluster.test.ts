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

/**
 * A throwaway three-master Redis Cluster on ports 21600-21602, owned by this file alone. Each
 * node also listens on its cluster bus port, data port + 10000 (31600-31602): both stay below
 * the kernel's ephemeral range (32768-60999), where an outgoing connection may hold a port.
 */
const PORTS = [21600, 21601, 21602];
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

describe.skipIf(!hasRedis)('SDK and applier on a Redis Cluster', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fabric-cluster-'));
  const nodes: ClusterNode[] = [];
  let cluster: Cluster;

  const startCluster = async () => {
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
      nodes.push(startNode(port, args));
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
  };

  beforeAll(async () => {
    try {
      await startCluster();
    } catch (err) {
      // What the servers said (a port in use, a bad option) is the cause worth reading.
      const said = nodes.map((n) => `--- redis-server :${n.port} (${n.state()}) ---\n${n.output()}`).join('\n');
      throw new Error(`Redis Cluster did not start: ${(err as Error).message}\n${said}`, { cause: err });
    }
  });

  afterAll(async () => {
    cluster?.disconnect();
    for (const { child } of nodes) child.kill('SIGTERM');
    await Promise.all(
      nodes.map(({ child }) =>
        child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : undefined,
      ),
    );
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
      expect(Number(await cluster.get('ver:cl'))).toBeGreaterThan(1_000_000_000_000_000);
      expect(await inv.health()).toMatchObject({ redis: 'up', deadLettered: 0 });
    } finally {
      await producer.disconnect();
      await inv.dispose();
    }
  });
});

interface ClusterNode {
  port: number;
  child: ChildProcess;
  /** The newest part of what the server printed (its log goes to stdout). */
  output(): string;
  state(): string;
}

function startNode(port: number, args: string[]): ClusterNode {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (err) => keep(Buffer.from(`spawn failed: ${err.message}\n`)));
  return {
    port,
    child,
    output: () => output || '(no output)',
    state: () =>
      child.exitCode !== null || child.signalCode !== null
        ? `exited with ${child.signalCode ?? child.exitCode}`
        : 'running',
  };
}

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
