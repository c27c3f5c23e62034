import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseReaderConfig } from '@fabric/cdc-reader';
import { assertListenSecure, hashToken, validateControlPlaneConfig } from '@fabric/control-plane';
import { parseInvalidatorConfig } from '@fabric/invalidator';
import { describe, expect, it } from 'vitest';
import { HOME, loadCompose, MODES, type Mode, REGIONS, ROOT, serviceEnv } from './compose-file.js';

// The regions must be wired as the sandbox wires them: each worker talks to its own
// region's database, brokers, topic and Redis, checked with the workers' own flag parsers,
// in the default physical mode and with docker-compose.logical.yml on top.
describe.each(Object.keys(MODES) as Mode[])('docker-compose.regions.yml wiring, %s replication', (mode) => {
  const compose = loadCompose({ FABRIC_TOKEN_SHA256: hashToken('compose-test') }, MODES[mode]);
  const service = (name: string) => {
    const s = compose.services[name];
    if (!s) throw new Error(`no service ${name}`);
    return s;
  };
  /** The port the health check asks, which must be the one the worker serves. */
  const healthPort = (name: string) =>
    Number(/127\.0\.0\.1:(\d+)\/healthz/.exec(service(name).healthcheck!.test!.join(' '))?.[1]);

  it.each(REGIONS)('points the %s reader at its own database, brokers and topic', (region) => {
    const reader = service(`${region}-cdc-reader`);
    const [node, script, ...args] = reader.command!;
    expect([node, script]).toEqual(['node', 'packages/cdc-reader/dist/main.js']);
    const config = parseReaderConfig(args, serviceEnv(reader))!;
    expect(config.region).toBe(region);
    expect(new URL(config.postgresUrl).host).toBe(`${region}-postgres:5432`);
    expect(config.kafkaBrokers).toEqual([`${region}-kafka:9092`]);
    expect(config.topic).toBe(`fabric.inval.${region}`);
    expect(config.deadLetterTopic).toBe(`fabric.inval.${region}.dlq`);
    expect(config.home).toBe(region === HOME);
    // Every reader, the home one included: it relays logical messages with logical replicas only.
    expect(config.replication).toBe(mode);
    expect(config.metricsHost).toBe('0.0.0.0');
    expect(config.metricsPort).toBe(healthPort(`${region}-cdc-reader`));
    expect(reader.configs).toContainEqual({ source: 'key-rules', target: config.rulesPath });
  });

  it.each(REGIONS)('points the %s invalidator at its own brokers, topic and Redis', (region) => {
    const invalidator = service(`${region}-invalidator`);
    const [node, script, ...args] = invalidator.command!;
    expect([node, script]).toEqual(['node', 'packages/invalidator/dist/main.js']);
    const config = parseInvalidatorConfig(args, serviceEnv(invalidator))!;
    expect(config.region).toBe(region);
    expect(config.kafkaBrokers).toEqual([`${region}-kafka:9092`]);
    expect(config.topic).toBe(`fabric.inval.${region}`);
    expect(config.groupId).toBe(`fabric-invalidator-${region}`);
    expect(config.redis.nodes).toEqual([{ host: `${region}-redis`, port: 6379 }]);
    expect(config.metricsPort).toBe(healthPort(`${region}-invalidator`));
  });

  it.each(REGIONS)('runs a single KRaft broker in %s and creates its topic and DLQ', (region) => {
    const env = serviceEnv(service(`${region}-kafka`));
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://${region}-kafka:9092`);
    expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    expect(env.CLUSTER_ID).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    const topics = service(`${region}-kafka-topics`);
    expect(topics.command).toEqual(['/bin/sh', '/fabric/create-topics.sh', `${region}-kafka:9092`, region, '3']);
    expect(topics.volumes).toContain('./deploy/kafka/create-topics.sh:/fabric/create-topics.sh:ro');
  });

  it('gives every broker its own cluster id', () => {
    const ids = REGIONS.map((r) => serviceEnv(service(`${r}-kafka`)).CLUSTER_ID);
    expect(new Set(ids).size).toBe(REGIONS.length);
  });

  it('creates the topics the workers use', () => {
    const script = readFileSync(path.join(ROOT, 'deploy/kafka/create-topics.sh'), 'utf8');
    expect(script).toContain('--topic "fabric.inval.$region" --partitions "$partitions"');
    expect(script).toContain('--topic "fabric.inval.$region.dlq" --partitions 1');
  });

  it('configures the control plane for all three regions, as its own validator accepts', () => {
    const cp = service('control-plane');
    expect(cp.command).toEqual([
      'node',
      'packages/control-plane/dist/main.js',
      '--config',
      '/etc/fabric/control-plane.json',
    ]);
    expect(cp.configs).toEqual([{ source: 'control-plane', target: '/etc/fabric/control-plane.json' }]);
    const config = validateControlPlaneConfig(JSON.parse(compose.configs['control-plane']!.content!), '/etc/fabric');
    expect(config.tokens.map((t) => t.sha256)).toEqual([hashToken('compose-test')]);
    expect(config.regions.map((r) => [r.name, r.home])).toEqual(REGIONS.map((r) => [r, r === HOME]));
    expect(config.replication).toBe(mode);
    for (const region of config.regions) {
      expect(new URL(region.postgresUrl).host).toBe(`${region.name}-postgres:5432`);
      expect(region.kafkaBrokers).toEqual([`${region.name}-kafka:9092`]);
      expect(region.readerStatusUrl).toBe(
        `http://${region.name}-cdc-reader:${healthPort(`${region.name}-cdc-reader`)}/healthz`,
      );
      expect(region.invalidatorStatusUrl).toBe(
        `http://${region.name}-invalidator:${healthPort(`${region.name}-invalidator`)}/healthz`,
      );
    }
    // Beyond loopback without TLS on the compose network: said explicitly, or it would refuse to start.
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 50051, allowInsecure: true });
    expect(() => assertListenSecure(config)).not.toThrow();
    expect(config.metrics.port).toBe(healthPort('control-plane'));
    expect(cp.ports).toContain('127.0.0.1:35430:50051');
  });

  it('refuses to start without a token hash rather than with a known token', () => {
    expect(() => loadCompose({})).toThrow(/FABRIC_TOKEN_SHA256/);
  });

  it('starts every Node service from a script the build produces', () => {
    const scripts = Object.values(compose.services)
      .filter((s) => s.command?.[0] === 'node')
      .map((s) => s.command![1]!);
    expect(new Set(scripts)).toEqual(
      new Set([
        'packages/cdc-reader/dist/main.js',
        'packages/invalidator/dist/main.js',
        'packages/control-plane/dist/main.js',
      ]),
    );
    for (const script of scripts) expect(existsSync(path.join(ROOT, script)), script).toBe(true);
  });
});
