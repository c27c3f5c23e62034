import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHelm, find, type Manifest, render } from './helm.js';

type Rule = { ports: Array<{ port: number; protocol: string }>; from?: unknown[]; to?: unknown[] };
const ports = (rules: Rule[]) => rules.map((r) => r.ports.map((p) => `${p.port}/${p.protocol}`).join(','));

describe('Helm chart NetworkPolicy', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  const policy = (manifests: Manifest[], name: string) => find(manifests, 'NetworkPolicy', name).spec;

  it('denies everything by default for every pod of the release', () => {
    const spec = policy(render(binary, 'us-east'), 'fabric-us-east-default-deny');
    expect(spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'fabric-us-east' } },
      policyTypes: ['Ingress', 'Egress'],
    });
  });

  it('lets each component reach exactly what it needs, and metrics only from the control plane and named scrapers', () => {
    const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const manifests = render(binary, 'us-east', [
      '--set-json',
      `networkPolicy.metricsFrom=${JSON.stringify([monitoring])}`,
    ]);
    const reader = policy(manifests, 'fabric-us-east-cdc-reader');
    const invalidator = policy(manifests, 'fabric-us-east-invalidator');
    const controlPlane = policy(manifests, 'fabric-us-east-control-plane');
    expect(ports(reader.egress)).toEqual(['53/UDP,53/TCP', '5432/TCP', '9092/TCP', '6379/TCP']);
    expect(ports(invalidator.egress)).toEqual(['53/UDP,53/TCP', '9092/TCP', '6379/TCP']);
    expect(ports(controlPlane.egress)).toEqual(['53/UDP,53/TCP', '5432/TCP', '9092/TCP', '9464/TCP']);
    for (const spec of [reader, invalidator]) {
      expect(ports(spec.ingress)).toEqual(['9464/TCP']);
      expect(spec.ingress[0].from).toEqual([
        {
          podSelector: {
            matchLabels: {
              'app.kubernetes.io/name': 'fabric-region',
              'app.kubernetes.io/instance': 'fabric-us-east',
              'app.kubernetes.io/component': 'control-plane',
            },
          },
        },
        // `helm test`, which asks each component's /healthz.
        {
          podSelector: {
            matchLabels: {
              'app.kubernetes.io/name': 'fabric-region',
              'app.kubernetes.io/instance': 'fabric-us-east',
              'app.kubernetes.io/component': 'helm-test',
            },
          },
        },
        monitoring,
      ]);
    }
    // gRPC open to callers (tokens decide), metrics as internal as the workers'.
    expect(ports(controlPlane.ingress)).toEqual(['50051/TCP', '9464/TCP']);
    expect(controlPlane.ingress[0].from).toBeUndefined();
  });

  it('narrows egress to the peers given, and renders no policy when turned off', () => {
    const block = { ipBlock: { cidr: '10.20.0.0/16' } };
    const narrowed = render(binary, 'eu-west', [
      '--set-json',
      `networkPolicy.egress.redis.to=${JSON.stringify([block])}`,
    ]);
    const redisRule = policy(narrowed, 'fabric-eu-west-invalidator').egress.find(
      (r: Rule) => r.ports[0]?.port === 6379,
    );
    expect(redisRule.to).toEqual([block]);
    // No control plane in eu-west: no policy for it either.
    expect(narrowed.some((m) => m.metadata.name === 'fabric-eu-west-control-plane')).toBe(false);
    const off = render(binary, 'eu-west', ['--set', 'networkPolicy.enabled=false']);
    expect(off.some((m) => m.kind === 'NetworkPolicy')).toBe(false);
  });

  it('refuses a control plane without TLS unless allowInsecure says so', () => {
    expect(() => render(binary, 'us-east', ['--set', 'controlPlane.allowInsecure=false'])).toThrow(
      /controlPlane.tls.secretName.*allowInsecure/,
    );
  });
});
