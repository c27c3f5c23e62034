import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseReaderConfig } from '@fabric/cdc-reader';
import { standbySlotName } from '@fabric/contracts';
import { validateControlPlaneConfig } from '@fabric/control-plane';
import { parseInvalidatorConfig } from '@fabric/invalidator';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HOME, ROOT } from './compose-file.js';
import { CHART, container, ensureHelm, find, helm, render, valuesFile } from './helm.js';

// values.schema.json and the templates' own checks must reject bad values at install time,
// naming the field, instead of leaving a pod to crash-loop.
describe('Helm chart values', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  const failure = (command: 'lint' | 'template', extra: string[]) => {
    const args = command === 'lint' ? ['lint', CHART] : ['template', 'fabric-eu-west', CHART];
    const run = helm(binary, [...args, '-f', valuesFile('eu-west'), ...extra]);
    expect(run.status, run.output).not.toBe(0);
    return run.output;
  };

  it('defaults the key rules to deploy/key-rules.demo.yaml', () => {
    const values = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
    expect(values.keyRules).toBe(readFileSync(path.join(ROOT, 'deploy/key-rules.demo.yaml'), 'utf8'));
  });

  it('rejects a region name the workers would reject', () => {
    expect(failure('lint', ['--set', 'region=EU_West'])).toMatch(/region: Does not match pattern/);
    expect(failure('template', ['--set', 'region=eu-west-'])).toMatch(/region: Does not match pattern/);
  });

  it('rejects missing connections, naming each', () => {
    expect(failure('template', ['--set-json', 'kafka.brokers=[]'])).toMatch(
      /kafka\.brokers: Array must have at least 1 items/,
    );
    expect(failure('template', ['--set-json', 'kafka.brokers=["no-port"]'])).toMatch(
      /kafka\.brokers\.0: Does not match pattern/,
    );
    expect(failure('lint', ['--set', 'postgres.url='])).toMatch(/postgres\.url: Does not match pattern/);
    expect(failure('template', ['--set', 'redis.url=http://redis:6379'])).toMatch(/redis\.url: Does not match pattern/);
  });

  it('rejects a misspelt value instead of ignoring it', () => {
    expect(failure('template', ['--set', 'regoin=eu-west'])).toMatch(/Additional property regoin is not allowed/);
  });

  it('rejects an enabled control plane without tokens, regions or exactly one home', () => {
    const output = failure('template', ['--set', 'controlPlane.enabled=true']);
    expect(output).toMatch(/controlPlane\.tokens: Array must have at least 1 items/);
    expect(output).toMatch(/controlPlane\.regions: Array must have at least 1 items/);
    const region = {
      name: 'eu-west',
      postgresUrl: 'postgres://p/fabric',
      kafkaBrokers: ['k:9092'],
      readerStatusUrl: 'http://r:9464/healthz',
      invalidatorStatusUrl: 'http://i:9464/healthz',
    };
    const token = { name: 'ops', scopes: ['read'], sha256: 'a'.repeat(64) };
    const noHome = JSON.stringify({ enabled: true, tokens: [token], regions: [region] });
    expect(failure('template', ['--set-json', `controlPlane=${noHome}`])).toMatch(
      /controlPlane\.regions: exactly one region must have home: true, found 0/,
    );
  });

  it('documents both replication modes and what a managed replica needs, defaulting to physical', () => {
    const text = readFileSync(path.join(CHART, 'values.yaml'), 'utf8');
    expect(parse(text).replication).toBe('physical');
    for (const needed of [
      'PostgreSQL 16 or newer',
      'wal_level=logical',
      'hot_standby_feedback=on',
      'REPLICATION',
      'fabric_cdc',
      'fabric_regions',
    ])
      expect(text, needed).toContain(needed);
  });

  it('passes replication: logical to the reader and to the control plane', () => {
    const readerReplication = (region: string) => {
      const c = container(
        find(render(binary, region, ['--set', 'replication=logical']), 'Deployment', `fabric-${region}-reader`),
      );
      const env = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      return parseReaderConfig(c.args.slice(2), { ...env, FABRIC_POSTGRES_URL: 'postgres://p/fabric' })!.replication;
    };
    // The home reader too: it relays logical messages only with logical replicas.
    expect([readerReplication(HOME), readerReplication('eu-west')]).toEqual(['logical', 'logical']);
    const home = render(binary, HOME, ['--set', 'replication=logical']);
    const raw = JSON.parse(find(home, 'Secret', `fabric-${HOME}-secrets`).stringData!['control-plane.json']!);
    expect(validateControlPlaneConfig(raw, '/etc/fabric/config').replication).toBe('logical');
  });

  it("lets the control plane measure a managed standby under the service's own slot name", () => {
    const values = parse(readFileSync(valuesFile(HOME), 'utf8'));
    values.controlPlane.regions[1].standbySlot = 'managed_replica_slot';
    const home = render(binary, HOME, [
      '--set-json',
      `controlPlane.regions=${JSON.stringify(values.controlPlane.regions)}`,
    ]);
    const raw = JSON.parse(find(home, 'Secret', `fabric-${HOME}-secrets`).stringData!['control-plane.json']!);
    const config = validateControlPlaneConfig(raw, '/etc/fabric/config');
    expect(config.regions.map((r) => r.standbySlot)).toEqual([
      undefined,
      'managed_replica_slot',
      standbySlotName('ap-south'),
    ]);
  });

  it('rejects an unknown replication mode and a slot name the control plane would reject', () => {
    expect(failure('template', ['--set', 'replication=streaming'])).toMatch(
      /replication: replication must be one of the following: "physical", "logical"/,
    );
    const region = {
      name: 'eu-west',
      postgresUrl: 'postgres://p/fabric',
      kafkaBrokers: ['k:9092'],
      readerStatusUrl: 'http://r:9464/healthz',
      invalidatorStatusUrl: 'http://i:9464/healthz',
      standbySlot: 'Replica-1',
    };
    expect(failure('lint', ['--set-json', `controlPlane.regions=${JSON.stringify([region])}`])).toMatch(
      /controlPlane\.regions\.0\.standbySlot: Does not match pattern/,
    );
  });

  it('rejects key rules that are not YAML', () => {
    expect(failure('template', ['--set', 'keyRules=tables: ['])).toMatch(/keyRules: not valid YAML/);
  });

  it('uses an existing Secret instead of creating one', () => {
    const manifests = render(binary, 'eu-west', [
      '--set',
      'postgres.url=',
      '--set',
      'secrets.existingSecret=fabric-eu-west-managed',
    ]);
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
    for (const name of ['reader', 'invalidator']) {
      const refs = container(find(manifests, 'Deployment', `fabric-eu-west-${name}`))
        .env!.filter((e) => e.valueFrom)
        .map((e) => e.valueFrom?.secretKeyRef?.name);
      // The reader's Postgres URL and both workers' (optional) Redis password.
      expect(new Set(refs), name).toEqual(new Set(['fabric-eu-west-managed']));
    }
  });

  it('passes a Redis Cluster, ACL user, TLS CA and password to the invalidator', () => {
    const manifests = render(binary, 'eu-west', [
      '--set',
      'redis.url=',
      '--set-json',
      'redis.cluster=["redis-0:6379","redis-1:6379"]',
      '--set',
      'redis.user=fabric',
      '--set',
      'redis.password=s3cret',
      '--set',
      'redis.tls.caSecret=redis-ca',
    ]);
    const c = container(find(manifests, 'Deployment', 'fabric-eu-west-invalidator'));
    const secret = find(manifests, 'Secret', 'fabric-eu-west-secrets').stringData!;
    const env = { FABRIC_REDIS_PASSWORD: secret['redis-password']! };
    const config = parseInvalidatorConfig(c.args.slice(2), env, (file) => `ca from ${file}`)!;
    expect(config.redis).toMatchObject({
      mode: 'cluster',
      username: 'fabric',
      password: 's3cret',
      tls: { ca: 'ca from /etc/fabric/redis-ca/ca.crt' },
    });
    expect(config.redis.nodes).toEqual([
      { host: 'redis-0', port: 6379 },
      { host: 'redis-1', port: 6379 },
    ]);
    expect(c.volumeMounts).toContainEqual({ name: 'redis-ca', mountPath: '/etc/fabric/redis-ca', readOnly: true });
  });
});
