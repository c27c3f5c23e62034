import { describe, expect, it } from 'vitest';
import { loadCompose, serviceEnv } from '../../deploy/compose-file.js';
import { KAFKA_HOST_LISTENER_PORT, topologyOf, withHostListener } from './definitions.js';

// The containers backend must run what docker-compose.regions.yml runs: this pins the few
// ways its definitions may differ from the file, so a new difference fails here.
const compose = loadCompose({ FABRIC_TOKEN_SHA256: 'x' });
const topology = topologyOf(compose, 20400);
const byName = new Map(topology.definitions.map((d) => [d.service, d]));

describe('container definitions of the test backend', () => {
  it('run every service of the file but the fabric workers the suites start themselves', () => {
    const left = Object.keys(compose.services).filter((name) => !byName.has(name));
    expect(left.map((name) => name.replace(/^(us-east|eu-west|ap-south)-/, '')).sort()).toEqual([
      'cdc-reader',
      'cdc-reader',
      'cdc-reader',
      'control-plane',
      'invalidator',
      'invalidator',
      'invalidator',
    ]);
    expect(topology.definitions).toHaveLength(12);
    expect(topology.regions).toEqual([
      { name: 'us-east', home: true },
      { name: 'eu-west', home: false },
      { name: 'ap-south', home: false },
    ]);
    expect([topology.postgres, topology.replication]).toEqual([17, 'physical']);
  });

  it('take image, entrypoint, command, networks, init scripts and health checks from the file', () => {
    for (const d of topology.definitions) {
      const service = compose.services[d.service]!;
      expect(d.image, d.service).toBe(service.image);
      expect(d.entrypoint, d.service).toEqual(service.entrypoint);
      expect(d.command, d.service).toEqual(service.command);
      expect(d.networks, d.service).toEqual(service.networks);
      expect(
        d.binds.map((b) => `./${b.source.slice(b.source.indexOf('deploy/'))}:${b.target}:${b.mode}`),
        d.service,
      ).toEqual((service.volumes ?? []).filter((v) => v.startsWith('./')));
      const [kind, ...test] = service.healthcheck?.test ?? [];
      if (kind === 'CMD') expect(d.healthcheck?.command, d.service).toEqual(test);
      if (kind === 'CMD-SHELL') expect(d.healthcheck?.command, d.service).toEqual(['/bin/sh', '-c', ...test]);
      expect(d.oneShot, d.service).toBe(d.role === 'kafka-topics');
    }
    expect(byName.get('us-east-postgres')!.binds.map((b) => b.target)).toEqual([
      '/docker-entrypoint-initdb.d/05-fabric-schema.sql',
      '/docker-entrypoint-initdb.d/10-demo-schema.sql',
      '/docker-entrypoint-initdb.d/15-replication-access.sh',
      '/docker-entrypoint-initdb.d/20-publication.sql',
      '/docker-entrypoint-initdb.d/30-reader-publication.sql',
    ]);
    expect(byName.get('eu-west-postgres')!.environment.FABRIC_PRIMARY).toBe('us-east-postgres:5432');
  });

  it('keep the environment, adding only a host listener to Kafka', () => {
    for (const d of topology.definitions) {
      const env = serviceEnv(compose.services[d.service]!);
      expect(d.environment, d.service).toEqual(d.role === 'kafka' ? withHostListener(env, d.ports[0]!.host) : env);
    }
    expect(byName.get('eu-west-kafka')!.environment).toMatchObject({
      KAFKA_LISTENERS: `PLAINTEXT://:9092,CONTROLLER://:9093,HOST://:${KAFKA_HOST_LISTENER_PORT}`,
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://eu-west-kafka:9092,HOST://127.0.0.1:20411',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT',
    });
  });

  it("publish on the sandbox's port plan from the test base", () => {
    const published = Object.fromEntries(
      topology.definitions.filter((d) => d.ports.length > 0).map((d) => [d.service, d.ports]),
    );
    expect(published).toEqual({
      'us-east-postgres': [{ container: 5432, host: 20400 }],
      'us-east-kafka': [{ container: KAFKA_HOST_LISTENER_PORT, host: 20401 }],
      'us-east-redis': [{ container: 6379, host: 20403 }],
      'eu-west-postgres': [{ container: 5432, host: 20410 }],
      'eu-west-kafka': [{ container: KAFKA_HOST_LISTENER_PORT, host: 20411 }],
      'eu-west-redis': [{ container: 6379, host: 20413 }],
      'ap-south-postgres': [{ container: 5432, host: 20420 }],
      'ap-south-kafka': [{ container: KAFKA_HOST_LISTENER_PORT, host: 20421 }],
      'ap-south-redis': [{ container: 6379, host: 20423 }],
    });
  });
});
