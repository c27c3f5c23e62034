import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HOME } from './compose-file.js';
import { ensureHelm, find, type Manifest, podSpec, render, valuesFile } from './helm.js';

const SECRET = `fabric-${HOME}-secrets`;
const regions = parse(readFileSync(valuesFile(HOME), 'utf8')).controlPlane.regions;
const withSasl = (password: string) =>
  regions.map((r: { name: string }) =>
    r.name === 'eu-west' ? { ...r, kafkaSasl: { mechanism: 'scram-sha-512', username: 'cp', password } } : r,
  );

// A release where every key of the chart's Secret is in use.
const BASE = [
  ...['--set', 'redis.password=redis-1', '--set', 'kafka.sasl.mechanism=scram-sha-512'],
  ...['--set', 'kafka.sasl.username=fabric', '--set', 'kafka.sasl.password=kafka-1'],
  ...['--set-json', `controlPlane.regions=${JSON.stringify(withSasl('eu-1'))}`],
];

/** How to rotate each key of the Secret through the values. */
const ROTATIONS: Record<string, string[]> = {
  'postgres-url': ['--set', 'postgres.url=postgres://fabric:rotated@postgres.us-east.fabric.internal:5432/fabric'],
  'redis-password': ['--set', 'redis.password=redis-2'],
  'kafka-password': ['--set', 'kafka.sasl.password=kafka-2'],
  'kafka-password-eu-west': ['--set-json', `controlPlane.regions=${JSON.stringify(withSasl('eu-2'))}`],
  'control-plane.json': ['--set', 'controlPlane.probeTimeoutMs=3000'],
};

/** Which Deployments read a key of the Secret: as a variable, or as a mounted file. */
function readers(manifests: Manifest[], key: string): string[] {
  return manifests
    .filter((m) => m.kind === 'Deployment')
    .filter((d) => {
      const spec = podSpec(d);
      const containers = [...(spec.initContainers ?? []), ...spec.containers];
      const byEnv = containers.some(
        (c: { env?: Array<{ valueFrom?: { secretKeyRef?: { name: string; key: string } } }> }) =>
          (c.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === SECRET && e.valueFrom.secretKeyRef.key === key),
      );
      const byFile = (spec.volumes ?? []).some(
        (v: { secret?: { secretName: string; items?: Array<{ key: string }> } }) =>
          v.secret?.secretName === SECRET && (!v.secret.items || v.secret.items.some((i) => i.key === key)),
      );
      return byEnv || byFile;
    })
    .map((d) => d.metadata.name)
    .sort();
}

const checksums = (manifests: Manifest[]) =>
  Object.fromEntries(
    manifests
      .filter((m) => m.kind === 'Deployment')
      .map((d) => [d.metadata.name, d.spec.template.metadata.annotations['checksum/secret'] as string | undefined]),
  );

describe('Helm chart secret checksums', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  it('rolls exactly the pods that read a rotated key of the Secret', () => {
    const base = render(binary, HOME, BASE);
    const keys = Object.keys(find(base, 'Secret', SECRET).stringData!).sort();
    expect(keys).toEqual(Object.keys(ROTATIONS).sort());
    const before = checksums(base);
    for (const key of keys) {
      const rotated = render(binary, HOME, [...BASE, ...ROTATIONS[key]!]);
      expect(find(rotated, 'Secret', SECRET).stringData![key], key).not.toBe(
        find(base, 'Secret', SECRET).stringData![key],
      );
      const after = checksums(rotated);
      const rolled = Object.keys(after)
        .filter((name) => after[name] !== before[name])
        .sort();
      expect(rolled, key).toEqual(readers(base, key));
      expect(rolled.length, key).toBeGreaterThan(0);
    }
  });

  it('leaves every pod alone when nothing secret changes', () => {
    const before = checksums(render(binary, HOME, BASE));
    expect(checksums(render(binary, HOME, [...BASE, '--set', 'invalidator.replicas=5']))).toEqual(before);
  });

  it('has no checksum for a Secret managed elsewhere, whose content the chart cannot see', () => {
    const manifests = render(binary, 'eu-west', ['--set', 'postgres.url=', '--set', 'secrets.existingSecret=managed']);
    expect(Object.values(checksums(manifests))).toEqual([undefined, undefined]);
  });
});
