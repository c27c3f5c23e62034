import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseKeyRules, parseReaderConfig } from '@fabric/cdc-reader';
import { validateControlPlaneConfig } from '@fabric/control-plane';
import { parseInvalidatorConfig } from '@fabric/invalidator';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HOME, REGIONS, ROOT } from './compose-file.js';
import { CHART, type Container, container, ensureHelm, find, helm, type Manifest, render, valuesFile } from './helm.js';

/** The environment a container sees, with secret references resolved against the rendered Secret. */
function containerEnv(c: Container, manifests: Manifest[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const value = ref ? find(manifests, 'Secret', ref.name).stringData?.[ref.key] : e.value;
    if (value !== undefined) env[e.name] = value;
    else if (!ref?.optional) throw new Error(`${e.name} refers to a missing secret key`);
  }
  return env;
}

/** Probed on the metrics port the worker listens on: startup, liveness and readiness on these paths. */
function expectProbed(c: Container, metricsPort: number, paths: [string, string, string]): void {
  expect(c.ports).toContainEqual({ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' });
  expect([c.startupProbe, c.livenessProbe, c.readinessProbe].map((p) => p.httpGet)).toEqual(
    paths.map((path) => ({ path, port: 'metrics' })),
  );
  expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  expect(c.resources).toHaveProperty('requests');
}

describe('Helm chart deploy/helm/fabric-region', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  it.each(REGIONS)('passes helm lint --strict with the %s values', (region) => {
    const run = helm(binary, ['lint', '--strict', CHART, '-f', valuesFile(region)]);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('0 chart(s) failed');
  });

  it.each(REGIONS)('renders the %s reader against its own region, with probes and a non-root pod', (region) => {
    const manifests = render(binary, region);
    const values = parse(readFileSync(valuesFile(region), 'utf8'));
    const reader = find(manifests, 'Deployment', `fabric-${region}-reader`);
    // One reader per slot, never two during a rollout.
    expect(reader.spec.replicas).toBe(1);
    expect(reader.spec.strategy).toEqual({ type: 'Recreate' });
    expect(reader.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    const c = container(reader);
    const [node, script, ...args] = c.args;
    expect([node, script]).toEqual(['node', 'packages/cdc-reader/dist/main.js']);
    const config = parseReaderConfig(args, containerEnv(c, manifests))!;
    expect(config.region).toBe(region);
    expect(config.home).toBe(region === HOME);
    // The chart's default, said explicitly rather than left to the reader's own default.
    expect(containerEnv(c, manifests).FABRIC_REPLICATION).toBe('physical');
    expect(config.replication).toBe('physical');
    expect(config.postgresUrl).toBe(values.postgres.url);
    expect(config.kafkaBrokers).toEqual(values.kafka.brokers);
    expect(config.topic).toBe(`fabric.inval.${region}`);
    expect(config.metricsHost).toBe('0.0.0.0');
    expectProbed(c, config.metricsPort, ['/metrics', '/metrics', '/healthz']);
    // The rules file the reader is given is the one the ConfigMap mounts.
    const mount = c.volumeMounts!.find((m) => m.name === 'key-rules')!;
    expect(config.rulesPath).toBe(path.posix.join(mount.mountPath, 'key-rules.yaml'));
    const rules = find(manifests, 'ConfigMap', `fabric-${region}-key-rules`).data!['key-rules.yaml']!;
    expect(rules).toBe(readFileSync(path.join(ROOT, 'deploy/key-rules.demo.yaml'), 'utf8'));
    expect([...parseKeyRules(rules, 'configmap').tables.keys()].sort()).toEqual([
      'public.products',
      'public.teams',
      'public.users',
    ]);
  });

  it.each(REGIONS)('renders the %s invalidators against its own brokers, topic and Redis', (region) => {
    const manifests = render(binary, region);
    const values = parse(readFileSync(valuesFile(region), 'utf8'));
    const invalidator = find(manifests, 'Deployment', `fabric-${region}-invalidator`);
    expect(invalidator.spec.replicas).toBe(values.invalidator.replicas);
    const c = container(invalidator);
    const [node, script, ...args] = c.args;
    expect([node, script]).toEqual(['node', 'packages/invalidator/dist/main.js']);
    const config = parseInvalidatorConfig(args, containerEnv(c, manifests))!;
    expect(config.region).toBe(region);
    expect(config.groupId).toBe(`fabric-invalidator-${region}`);
    expect(config.topic).toBe(`fabric.inval.${region}`);
    expect(config.kafkaBrokers).toEqual(values.kafka.brokers);
    expect(config.redis.nodes).toEqual([{ host: `redis.${region}.fabric.internal`, port: 6379 }]);
    expectProbed(c, config.metricsPort, ['/metrics', '/healthz', '/healthz']);
    expect(invalidator.spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(config.metricsPort),
    });
    for (const component of ['reader', 'invalidator']) {
      expect(find(manifests, 'Service', `fabric-${region}-${component}`).spec.ports).toEqual([
        { name: 'metrics', port: config.metricsPort, targetPort: 'metrics', protocol: 'TCP' },
      ]);
    }
  });

  it('runs the control plane only where enabled, with a configuration its validator accepts', () => {
    const home = render(binary, HOME);
    const c = container(find(home, 'Deployment', `fabric-${HOME}-control-plane`));
    expect(c.args).toEqual([
      'node',
      'packages/control-plane/dist/main.js',
      '--config=/etc/fabric/config/control-plane.json',
    ]);
    const raw = JSON.parse(find(home, 'Secret', `fabric-${HOME}-secrets`).stringData!['control-plane.json']!);
    const config = validateControlPlaneConfig(raw, '/etc/fabric/config');
    expect(config.regions.map((r) => [r.name, r.home])).toEqual(REGIONS.map((r) => [r, r === HOME]));
    // Said explicitly: a configuration without it means logical to the control plane.
    expect(raw.replication).toBe('physical');
    expect(config.regions[0]!.readerStatusUrl).toBe(`http://fabric-${HOME}-reader:9464/healthz`);
    expectProbed(c, config.metrics.port, ['/healthz', '/healthz', '/healthz']);
    expect(c.ports).toContainEqual({ name: 'grpc', containerPort: config.listen.port, protocol: 'TCP' });
    expect(
      find(home, 'Service', `fabric-${HOME}-control-plane`).spec.ports.map((p: { name: string }) => p.name),
    ).toEqual(['grpc', 'metrics']);

    for (const region of REGIONS.filter((r) => r !== HOME)) {
      const manifests = render(binary, region);
      const controlPlane = manifests.filter(
        (m) =>
          m.metadata.labels?.['app.kubernetes.io/component'] === 'control-plane' ||
          m.metadata.name.includes('control-plane'),
      );
      expect(controlPlane, region).toEqual([]);
      expect(Object.keys(find(manifests, 'Secret', `fabric-${region}-secrets`).stringData!), region).toEqual([
        'postgres-url',
      ]);
    }
  });
});
