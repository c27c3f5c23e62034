import { beforeAll, describe, expect, it } from 'vitest';
import { HOME } from './compose-file.js';
import { type Container, ensureHelm, find, type Manifest, podSpec, render } from './helm.js';

const COMPONENTS = [
  ['reader', 'reader', 'cdc-reader'],
  ['invalidator', 'invalidator', 'invalidator'],
  ['controlPlane', 'control-plane', 'control-plane'],
] as const;

const CA = {
  env: [
    { name: 'FABRIC_LOG_LEVEL', value: 'debug' },
    { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/fabric/extra-ca/ca.crt' },
  ],
  volume: { name: 'extra-ca', configMap: { name: 'corporate-ca' } },
  mount: { name: 'extra-ca', mountPath: '/etc/fabric/extra-ca', readOnly: true },
};
const ROLE = { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/fabric' };

describe('Helm chart hooks: extraEnv, extraVolumes, extraVolumeMounts, serviceAccount', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  const withHooks = (values: string) => [
    ...['--set-json', `${values}.extraEnv=${JSON.stringify(CA.env)}`],
    ...['--set-json', `${values}.extraVolumes=${JSON.stringify([CA.volume])}`],
    ...['--set-json', `${values}.extraVolumeMounts=${JSON.stringify([CA.mount])}`],
    ...['--set-json', `${values}.serviceAccount.annotations=${JSON.stringify(ROLE)}`],
  ];
  const deployment = (manifests: Manifest[], name: string) => find(manifests, 'Deployment', `fabric-${HOME}-${name}`);
  const containers = (m: Manifest): Container[] => [...(podSpec(m).initContainers ?? []), ...podSpec(m).containers];

  it.each(COMPONENTS)(
    'gives the %s its own environment, volumes and mounts, and no other component',
    (values, name) => {
      const manifests = render(binary, HOME, withHooks(values));
      for (const [, other] of COMPONENTS) {
        const d = deployment(manifests, other);
        const mine = other === name;
        for (const c of containers(d)) {
          expect(c.env ?? [], `${other}/${c.name}`).toEqual(
            mine ? expect.arrayContaining(CA.env) : expect.not.arrayContaining([CA.env[0]]),
          );
          expect(c.volumeMounts ?? [], `${other}/${c.name}`).toEqual(
            mine ? expect.arrayContaining([CA.mount]) : expect.not.arrayContaining([CA.mount]),
          );
        }
        expect(podSpec(d).volumes ?? [], other).toEqual(
          mine ? expect.arrayContaining([CA.volume]) : expect.not.arrayContaining([CA.volume]),
        );
      }
      // The CA bundle Node is pointed at lies in a mounted volume.
      const main = podSpec(deployment(manifests, name)).containers[0] as Container;
      const file = main.env!.find((e) => e.name === 'NODE_EXTRA_CA_CERTS')!.value!;
      expect(main.volumeMounts!.some((m) => file.startsWith(`${m.mountPath}/`))).toBe(true);
    },
  );

  it('keeps the chart’s own environment first, so an extra variable cannot hide a required one by accident', () => {
    const reader = podSpec(deployment(render(binary, HOME, withHooks('reader')), 'reader')).containers[0] as Container;
    expect(reader.env!.map((e) => e.name)).toEqual([
      'FABRIC_REPLICATION',
      'FABRIC_POSTGRES_URL',
      'FABRIC_REDIS_PASSWORD',
      'FABRIC_LOG_LEVEL',
      'NODE_EXTRA_CA_CERTS',
    ]);
  });

  it('runs each component as a service account of its own, annotated for a cloud role, with no token', () => {
    const manifests = render(binary, HOME, withHooks('invalidator'));
    for (const [, name, component] of COMPONENTS) {
      const account = find(manifests, 'ServiceAccount', `fabric-${HOME}-${component}`);
      expect(account.metadata.labels!['app.kubernetes.io/component']).toBe(component);
      expect(account.metadata.annotations, component).toEqual(component === 'invalidator' ? ROLE : undefined);
      expect((account as Manifest & { automountServiceAccountToken: boolean }).automountServiceAccountToken).toBe(
        false,
      );
      const spec = podSpec(deployment(manifests, name));
      expect(spec.serviceAccountName).toBe(`fabric-${HOME}-${component}`);
      expect(spec.automountServiceAccountToken).toBe(false);
    }
    // No control plane in eu-west: no account for it either.
    const standby = render(binary, 'eu-west')
      .filter((m) => m.kind === 'ServiceAccount')
      .map((m) => m.metadata.name);
    expect(standby.sort()).toEqual(['fabric-eu-west-cdc-reader', 'fabric-eu-west-invalidator']);
  });

  it('uses an existing service account by name, and mounts a token only when asked', () => {
    const manifests = render(binary, HOME, [
      ...['--set', 'reader.serviceAccount.create=false', '--set', 'reader.serviceAccount.name=fabric-cdc'],
      ...['--set', 'invalidator.serviceAccount.create=false'],
      ...['--set', 'controlPlane.serviceAccount.automountToken=true'],
    ]);
    const accounts = manifests.filter((m) => m.kind === 'ServiceAccount').map((m) => m.metadata.name);
    expect(accounts).toEqual([`fabric-${HOME}-control-plane`]);
    expect(podSpec(deployment(manifests, 'reader')).serviceAccountName).toBe('fabric-cdc');
    expect(podSpec(deployment(manifests, 'invalidator')).serviceAccountName).toBe('default');
    expect(podSpec(deployment(manifests, 'control-plane')).automountServiceAccountToken).toBe(true);
  });
});
