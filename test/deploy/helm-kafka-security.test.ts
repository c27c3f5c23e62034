import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseReaderConfig } from '@fabric/cdc-reader';
import { validateControlPlaneConfig } from '@fabric/control-plane';
import { parseInvalidatorConfig } from '@fabric/invalidator';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HOME } from './compose-file.js';
import { CHART, type Container, container, ensureHelm, find, helm, type Manifest, render, valuesFile } from './helm.js';

interface Volume {
  name: string;
  secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
}

/**
 * What a container reads at a path, as the kubelet would mount it: the chart's own Secret
 * from the rendered manifest, a Secret managed elsewhere as `<secret>/<key>` (its content
 * is the operator's). A path no mount covers does not exist.
 */
function mountedFiles(manifests: Manifest[], deployment: Manifest): (file: string) => string {
  const c = container(deployment);
  const volumes = (deployment.spec.template.spec.volumes ?? []) as Volume[];
  return (file) => {
    const mount = c.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`));
    const secret = volumes.find((v) => v.name === mount?.name)?.secret;
    if (!mount || !secret) throw new Error(`ENOENT: no mount holds ${file}`);
    const relative = path.posix.relative(mount.mountPath, file);
    const key = secret.items ? secret.items.find((i) => i.path === relative)?.key : relative;
    if (!key) throw new Error(`ENOENT: ${secret.secretName} mounts no ${relative}`);
    const own = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === secret.secretName);
    if (!own) return `${secret.secretName}/${key}`;
    const value = own.stringData?.[key];
    if (value === undefined) throw new Error(`ENOENT: Secret ${secret.secretName} has no key ${key}`);
    return value;
  };
}

function everythingVisible(c: Container): string {
  return JSON.stringify([c.args, c.env ?? []]);
}

describe('Helm chart Kafka TLS and SASL', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  const PASSWORD = 'kafka-pw-in-values';
  const secured = [
    ...['--set', 'kafka.tls.caSecret=brokers-ca', '--set', 'kafka.tls.clientSecret=worker-cert'],
    ...['--set', 'kafka.sasl.mechanism=scram-sha-512', '--set', 'kafka.sasl.username=fabric'],
    ...['--set', `kafka.sasl.password=${PASSWORD}`],
  ];

  it.each([
    ['reader', parseReaderConfig],
    ['invalidator', parseInvalidatorConfig],
  ] as const)(
    'gives the %s the Kafka flags, with the password and certificates as mounted files',
    (name, parseConfig) => {
      const manifests = render(binary, 'eu-west', secured);
      const deployment = find(manifests, 'Deployment', `fabric-eu-west-${name}`);
      const c = container(deployment);
      expect(c.args).toEqual(
        expect.arrayContaining([
          '--kafka-tls=on',
          '--kafka-ca=/etc/fabric/kafka-ca/ca.crt',
          '--kafka-cert=/etc/fabric/kafka-client/tls.crt',
          '--kafka-key=/etc/fabric/kafka-client/tls.key',
          '--kafka-sasl=scram-sha-512',
          '--kafka-username=fabric',
          '--kafka-password-file=/etc/fabric/kafka-sasl/kafka-password',
        ]),
      );
      // Neither an argument nor a variable: both show in `kubectl describe` and `ps`.
      expect(everythingVisible(c)).not.toContain(PASSWORD);
      expect(find(manifests, 'Secret', 'fabric-eu-west-secrets').stringData!['kafka-password']).toBe(PASSWORD);

      const env = { FABRIC_POSTGRES_URL: 'postgres://fabric@db/fabric' };
      const config = parseConfig(c.args.slice(2), env, mountedFiles(manifests, deployment))!;
      expect(config.kafkaSecurity).toEqual({
        tls: { ca: 'brokers-ca/ca.crt', cert: 'worker-cert/tls.crt', key: 'worker-cert/tls.key' },
        sasl: { mechanism: 'scram-sha-512', username: 'fabric', password: PASSWORD },
      });
    },
  );

  it('stays plaintext without SASL by default, mounting nothing', () => {
    const manifests = render(binary, 'eu-west');
    for (const name of ['reader', 'invalidator']) {
      const c = container(find(manifests, 'Deployment', `fabric-eu-west-${name}`));
      expect(c.args.filter((a) => a.startsWith('--kafka-'))).toEqual([]);
      expect((c.volumeMounts ?? []).filter((m) => m.name.startsWith('kafka'))).toEqual([]);
    }
    expect(find(manifests, 'Secret', 'fabric-eu-west-secrets').stringData).not.toHaveProperty('kafka-password');
  });

  it('turns TLS on with the system CAs alone, and refuses plain SASL without TLS or SASL without a password', () => {
    const tls = container(
      find(render(binary, 'eu-west', ['--set', 'kafka.tls.enabled=true']), 'Deployment', 'fabric-eu-west-invalidator'),
    );
    expect(tls.args.filter((a) => a.startsWith('--kafka-'))).toEqual(['--kafka-tls=on']);
    const failure = (extra: string[]) => {
      const run = helm(binary, ['template', 'fabric-eu-west', CHART, '-f', valuesFile('eu-west'), ...extra]);
      expect(run.status, run.output).not.toBe(0);
      return run.output;
    };
    const user = ['--set', 'kafka.sasl.username=fabric', '--set', 'kafka.sasl.password=x'];
    expect(failure(['--set', 'kafka.sasl.mechanism=plain', ...user])).toMatch(/kafka\.sasl\.mechanism: plain sends/);
    expect(failure(['--set', 'kafka.sasl.mechanism=gssapi', ...user])).toMatch(/kafka\.sasl\.mechanism/);
    expect(failure(['--set', 'kafka.sasl.mechanism=scram-sha-256', '--set', 'kafka.sasl.username=fabric'])).toMatch(
      /kafka\.sasl\.password: required/,
    );
  });

  it("gives the control plane each region's Kafka TLS and SASL as files its validator reads", () => {
    const values = parse(readFileSync(valuesFile(HOME), 'utf8'));
    const regions = values.controlPlane.regions.map((r: { name: string }) =>
      r.name === 'eu-west'
        ? {
            ...r,
            kafkaTls: { caSecret: 'eu-west-kafka-ca', clientSecret: 'eu-west-kafka-client' },
            kafkaSasl: { mechanism: 'scram-sha-256', username: 'cp', password: 'eu-pw' },
          }
        : r.name === 'ap-south'
          ? { ...r, kafkaTls: true }
          : r,
    );
    const manifests = render(binary, HOME, ['--set-json', `controlPlane.regions=${JSON.stringify(regions)}`]);
    const deployment = find(manifests, 'Deployment', `fabric-${HOME}-control-plane`);
    const raw = JSON.parse(find(manifests, 'Secret', `fabric-${HOME}-secrets`).stringData!['control-plane.json']!);
    const config = validateControlPlaneConfig(raw, '/etc/fabric/config', mountedFiles(manifests, deployment));
    const security = Object.fromEntries(config.regions.map((r) => [r.name, r.kafkaSecurity]));
    expect(security).toEqual({
      'us-east': {},
      'eu-west': {
        tls: {
          ca: 'eu-west-kafka-ca/ca.crt',
          cert: 'eu-west-kafka-client/tls.crt',
          key: 'eu-west-kafka-client/tls.key',
        },
        sasl: { mechanism: 'scram-sha-256', username: 'cp', password: 'eu-pw' },
      },
      'ap-south': { tls: {} },
    });
    // The password is in the Secret under its own key, and the configuration only names its file.
    expect(raw.regions[1].kafkaSasl).toEqual({
      mechanism: 'scram-sha-256',
      username: 'cp',
      passwordFile: '/etc/fabric/kafka-sasl/eu-west',
    });
    expect(JSON.stringify(raw)).not.toContain('eu-pw');
    expect(everythingVisible(container(deployment))).not.toContain('eu-pw');
  });
});
