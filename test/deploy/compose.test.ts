import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOME, loadCompose, oneShotServices, REGIONS, ROOT, regionServices } from './compose-file.js';

// No Docker engine here: these check the file's structure the way Compose reads it.
describe('docker-compose.regions.yml structure', () => {
  const compose = loadCompose({ FABRIC_TOKEN_SHA256: 'a'.repeat(64) });
  const services = Object.entries(compose.services);
  const oneShots = oneShotServices(compose);

  it('gives every service an image or a build', () => {
    expect(services.length).toBeGreaterThan(0);
    for (const [name, service] of services) expect(service.image ?? service.build, name).toBeTruthy();
  });

  it('runs one-shot services once and health-checks every long-running one', () => {
    expect([...oneShots].sort()).toEqual([
      'ap-south-kafka-topics',
      'eu-west-kafka-topics',
      'replication-setup',
      'us-east-kafka-topics',
    ]);
    for (const [name, service] of services) {
      if (oneShots.has(name)) {
        expect(service.restart, name).toBe('no');
        expect(service.healthcheck, name).toBeUndefined();
      } else {
        expect(service.healthcheck?.test?.length, `${name} has no health check`).toBeGreaterThan(1);
        expect(service.restart, name).toBe('unless-stopped');
      }
    }
  });

  it('gives each region its own PostgreSQL, Kafka, topics, Redis, reader and invalidator', () => {
    for (const region of REGIONS) {
      expect(Object.keys(regionServices(compose, region)).sort(), region).toEqual([
        'cdc-reader',
        'invalidator',
        'kafka',
        'kafka-topics',
        'postgres',
        'redis',
      ]);
    }
    const global = services.map(([name]) => name).filter((name) => !REGIONS.some((r) => name.startsWith(`${r}-`)));
    expect(global.sort()).toEqual(['control-plane', 'replication-setup']);
  });

  it('keeps every region on its own network; only databases and the control plane cross regions', () => {
    expect(Object.keys(compose.networks).sort()).toEqual(['ap-south', 'eu-west', 'interregion', 'us-east']);
    for (const region of REGIONS) {
      for (const [role, service] of Object.entries(regionServices(compose, region))) {
        const expected = role === 'postgres' ? [region, 'interregion'] : [region];
        expect(service.networks?.slice().sort(), `${region}-${role}`).toEqual(expected.sort());
      }
    }
    const crossing = services.filter(([, s]) => s.networks?.includes('interregion')).map(([name]) => name);
    expect(crossing.sort()).toEqual([
      'ap-south-postgres',
      'control-plane',
      'eu-west-postgres',
      'replication-setup',
      'us-east-postgres',
    ]);
    expect(compose.services['control-plane']!.networks!.slice().sort()).toEqual([
      'ap-south',
      'eu-west',
      'interregion',
      'us-east',
    ]);
    // Fixed names, so a chaos script can `docker network disconnect fabric-interregion ...`.
    expect(compose.networks.interregion!.name).toBe('fabric-interregion');
  });

  it('waits for what each service needs: healthy for long-running services, completed for one-shots', () => {
    for (const [name, service] of services) {
      for (const [target, dep] of Object.entries(service.depends_on ?? {})) {
        expect(compose.services[target], `${name} depends on unknown ${target}`).toBeDefined();
        expect(dep.condition, `${name} -> ${target}`).toBe(
          oneShots.has(target) ? 'service_completed_successfully' : 'service_healthy',
        );
      }
    }
    for (const region of REGIONS) {
      const reader = compose.services[`${region}-cdc-reader`]!;
      expect(Object.keys(reader.depends_on ?? {}), region).toEqual(
        expect.arrayContaining([
          `${region}-postgres`,
          `${region}-kafka`,
          `${region}-kafka-topics`,
          ...(region === HOME ? [] : ['replication-setup']),
        ]),
      );
      const invalidator = compose.services[`${region}-invalidator`]!;
      expect(Object.keys(invalidator.depends_on ?? {}).sort(), region).toEqual([
        `${region}-kafka`,
        `${region}-kafka-topics`,
        `${region}-redis`,
      ]);
    }
  });

  it('mounts only files that exist in the repository', () => {
    const binds = services.flatMap(([, s]) => s.volumes ?? []).filter((v) => v.startsWith('./'));
    expect(binds.length).toBeGreaterThan(0);
    for (const bind of binds) expect(existsSync(path.join(ROOT, bind.split(':')[0]!)), bind).toBe(true);
    for (const [name, config] of Object.entries(compose.configs)) {
      if (config.file) expect(existsSync(path.join(ROOT, config.file)), name).toBe(true);
      else expect(config.content, name).toBeTruthy();
    }
  });

  it('publishes host ports on the loopback only, without collisions', () => {
    const ports = services.flatMap(([, s]) => s.ports ?? []);
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    const hostPorts = ports.map((p) => p.split(':')[1]);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });
});
