import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HOME,
  loadCompose,
  MODES,
  type Mode,
  oneShotServices,
  REGIONS,
  ROOT,
  regionServices,
  STANDBYS,
} from './compose-file.js';

// No Docker engine here: these check the files' structure the way Compose reads them, as
// the stack runs by default (physical standbys) and with docker-compose.logical.yml on top.
describe.each(Object.keys(MODES) as Mode[])('docker-compose.regions.yml structure, %s replication', (mode) => {
  const compose = loadCompose({ FABRIC_TOKEN_SHA256: 'a'.repeat(64) }, MODES[mode]);
  const services = Object.entries(compose.services);
  const oneShots = oneShotServices(compose);
  // Only logical replicas need a one-shot to subscribe them; standbys make themselves.
  const globalOneShots = mode === 'logical' ? ['replication-setup'] : [];

  it('gives every service an image or a build', () => {
    expect(services.length).toBeGreaterThan(0);
    for (const [name, service] of services) expect(service.image ?? service.build, name).toBeTruthy();
  });

  it('runs one-shot services once and health-checks every long-running one', () => {
    expect([...oneShots].sort()).toEqual(
      ['ap-south-kafka-topics', 'eu-west-kafka-topics', ...globalOneShots, 'us-east-kafka-topics'].sort(),
    );
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
    expect(global.sort()).toEqual(['control-plane', ...globalOneShots].sort());
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
    expect(crossing.sort()).toEqual(
      ['ap-south-postgres', 'control-plane', 'eu-west-postgres', ...globalOneShots, 'us-east-postgres'].sort(),
    );
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
    // A standby is copied from the primary, so it starts once the primary has its schema.
    expect(compose.services[`${HOME}-postgres`]!.depends_on, HOME).toBeUndefined();
    for (const region of STANDBYS)
      expect(compose.services[`${region}-postgres`]!.depends_on, region).toEqual({
        [`${HOME}-postgres`]: { condition: 'service_healthy' },
      });
    for (const region of REGIONS) {
      // Each reader waits for its own database, broker and Redis (its continuity record) only
      // (and, with logical replicas, for the subscription): no reader depends on another region.
      const reader = compose.services[`${region}-cdc-reader`]!;
      expect(Object.keys(reader.depends_on ?? {}).sort(), region).toEqual(
        [
          `${region}-postgres`,
          `${region}-kafka`,
          `${region}-kafka-topics`,
          `${region}-redis`,
          ...(region !== HOME && mode === 'logical' ? ['replication-setup'] : []),
        ].sort(),
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
