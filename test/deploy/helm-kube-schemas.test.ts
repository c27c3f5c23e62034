import { beforeAll, describe, expect, it } from 'vitest';
import { HOME, REGIONS } from './compose-file.js';
import { ensureHelm, find, type Manifest, render } from './helm.js';
import { ensureKubeSchemas, KUBERNETES_SCHEMA_VERSION, KubeSchemas } from './helm-kube-schemas.js';

const json = (path: string, value: unknown) => ['--set-json', `${path}=${JSON.stringify(value)}`];
const set = (...pairs: string[]) => pairs.flatMap((p) => ['--set', p]);

const extraCa = {
  env: [
    { name: 'FABRIC_LOG_LEVEL', value: 'debug' },
    { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/fabric/extra-ca/ca.crt' },
  ],
  volumes: [{ name: 'extra-ca', configMap: { name: 'corporate-ca' } }],
  mounts: [{ name: 'extra-ca', mountPath: '/etc/fabric/extra-ca', readOnly: true }],
};
const hooks = (component: string) => [
  ...json(`${component}.extraEnv`, extraCa.env),
  ...json(`${component}.extraVolumes`, extraCa.volumes),
  ...json(`${component}.extraVolumeMounts`, extraCa.mounts),
  ...json(`${component}.serviceAccount.annotations`, { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/fabric' }),
];

/** Every region's values, and option combinations on top of them: each must render manifests the API accepts. */
const SCENARIOS: Array<[string, string, string[]]> = [
  ...REGIONS.map((r): [string, string, string[]] => [`${r} values`, r, []]),
  [
    'Kafka TLS, mTLS and SASL; Redis Cluster with TLS, user and password',
    'eu-west',
    [
      ...set('kafka.tls.caSecret=brokers-ca', 'kafka.tls.clientSecret=worker-cert'),
      ...set('kafka.sasl.mechanism=scram-sha-512', 'kafka.sasl.username=fabric', 'kafka.sasl.password=pw'),
      ...set('redis.url=', 'redis.user=fabric', 'redis.password=pw', 'redis.tls.enabled=true'),
      ...set('redis.tls.caSecret=redis-ca'),
      ...json('redis.cluster', ['redis-0:6379', 'redis-1:6379']),
    ],
  ],
  [
    'control plane with TLS and mTLS, and every kind of region Kafka security',
    HOME,
    [
      ...set('controlPlane.allowInsecure=false', 'controlPlane.tls.secretName=cp-tls'),
      ...set(
        'controlPlane.tls.requireClientCerts=true',
        'controlPlane.replicas=2',
        'controlPlane.service.type=LoadBalancer',
      ),
      ...json('controlPlane.regions', [
        {
          name: 'us-east',
          home: true,
          postgresUrl: 'postgres://fabric@db/fabric',
          kafkaBrokers: ['k:9092'],
          readerStatusUrl: 'http://r:9464/healthz',
          invalidatorStatusUrl: 'http://i:9464/healthz',
          kafkaTls: { caSecret: 'us-ca', clientSecret: 'us-client' },
          kafkaSasl: { mechanism: 'scram-sha-256', username: 'cp', password: 'pw' },
        },
        {
          name: 'eu-west',
          postgresUrl: 'postgres://fabric@db-eu/fabric',
          kafkaBrokers: ['k-eu:9092'],
          readerStatusUrl: 'http://r-eu:9464/healthz',
          invalidatorStatusUrl: 'http://i-eu:9464/healthz',
          kafkaTls: true,
        },
      ]),
    ],
  ],
  ['control plane TLS without mTLS (helm test verifies with its CA)', HOME, set('controlPlane.tls.secretName=cp-tls')],
  ['an existing Secret', 'eu-west', set('postgres.url=', 'secrets.existingSecret=fabric-eu-west-managed')],
  [
    'image by digest, pull secrets, scheduling',
    'ap-south',
    [
      ...set(`image.digest=sha256:${'a'.repeat(64)}`, 'image.pullPolicy=Always'),
      ...json('imagePullSecrets', [{ name: 'registry' }]),
      ...json('nodeSelector', { 'kubernetes.io/arch': 'amd64' }),
      ...json('tolerations', [{ key: 'dedicated', operator: 'Equal', value: 'fabric', effect: 'NoSchedule' }]),
      ...json('affinity', {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['fabric'] }] }],
          },
        },
      }),
    ],
  ],
  [
    'extraEnv, extraVolumes, extraVolumeMounts and IRSA on every component',
    HOME,
    ['reader', 'invalidator', 'controlPlane'].flatMap(hooks),
  ],
  [
    'existing service accounts, a token, PDB by minAvailable, own spread constraints',
    'eu-west',
    [
      ...set('reader.serviceAccount.create=false', 'reader.serviceAccount.name=fabric-reader'),
      ...set('invalidator.serviceAccount.automountToken=true', 'invalidator.podDisruptionBudget.minAvailable=50%'),
      ...json('invalidator.topologySpreadConstraints', [
        {
          maxSkew: 2,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'invalidator' } },
        },
      ]),
    ],
  ],
  [
    'everything optional off: topics, tests, PDB, spread, policies, scrape annotations',
    'eu-west',
    set(
      'kafka.topics.create=false',
      'tests.enabled=false',
      'invalidator.podDisruptionBudget.enabled=false',
      'invalidator.topologySpread.enabled=false',
      'networkPolicy.enabled=false',
      'metrics.podAnnotations=false',
    ),
  ],
  [
    'logical replicas, narrowed policies, a single-broker topic layout',
    HOME,
    [
      ...set('replication=logical', 'kafka.topics.replicationFactor=1', 'kafka.topics.minInsyncReplicas=1'),
      ...json('networkPolicy.metricsFrom', [{ namespaceSelector: { matchLabels: { team: 'monitoring' } } }]),
      ...json('networkPolicy.controlPlaneFrom', [{ podSelector: { matchLabels: { role: 'ops' } } }]),
      ...json('networkPolicy.egress.postgres.to', [{ ipBlock: { cidr: '10.20.0.0/16' } }]),
      ...json('networkPolicy.dns.to', [
        { namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
      ]),
    ],
  ],
];

describe(`Helm chart manifests against the Kubernetes ${KUBERNETES_SCHEMA_VERSION} schemas`, () => {
  let binary: string;
  let schemas: KubeSchemas;
  beforeAll(() => {
    binary = ensureHelm();
    schemas = new KubeSchemas(ensureKubeSchemas());
  }, 400_000);

  const validateAll = async (manifests: Manifest[]) =>
    (await Promise.all(manifests.map((m) => schemas.validate(m)))).flat();

  it('accepts every manifest of every region and option combination', async () => {
    const kinds = new Set<string>();
    let validated = 0;
    for (const [name, region, extra] of SCENARIOS) {
      const manifests = render(binary, region, extra);
      expect(await validateAll(manifests), name).toEqual([]);
      for (const m of manifests) kinds.add(m.kind);
      validated += manifests.length;
    }
    process.stderr.write(
      `[helm] ${validated} manifests of ${SCENARIOS.length} renderings valid against Kubernetes ${KUBERNETES_SCHEMA_VERSION}\n`,
    );
    // The helm test pod is rendered too (helm template includes test hooks).
    expect([...kinds].sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'Pod',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('catches a broken manifest: wrong type, missing field, bad enum, unknown field, unknown kind', async () => {
    const manifests = render(binary, 'eu-west');
    const broken = structuredClone(find(manifests, 'Deployment', 'fabric-eu-west-invalidator'));
    const pod = broken.spec.template.spec;
    pod.containers[0].ports[0].containerPort = 'metrics';
    delete pod.containers[0].name;
    pod.containers[0].imagePullPolicy = 'Sometimes';
    // A key indented one level too deep: helm renders it, the API server would drop it.
    pod.containers[0].livenessProbe.httpGet.periodSeconds = 10;
    pod.topologySpreadConstraint = [];
    const problems = await schemas.validate(broken);
    const at = 'apps/v1/Deployment fabric-eu-west-invalidator: /spec/template/spec';
    expect(problems).toEqual(
      expect.arrayContaining([
        `${at}/containers/0: must have required property name`,
        `${at}/containers/0/imagePullPolicy: must be equal to one of the allowed values (Always, IfNotPresent, Never)`,
        `${at}/containers/0/ports/0/containerPort: must be integer`,
        `${at}/containers/0/livenessProbe/httpGet/periodSeconds: unknown field (V1HTTPGetAction has no periodSeconds)`,
        `${at}/topologySpreadConstraint: unknown field (V1PodSpec has no topologySpreadConstraint)`,
      ]),
    );
    expect(await schemas.validate({ ...broken, apiVersion: 'apps/v1beta9' } as Manifest)).toEqual([
      `apps/v1beta9/Deployment fabric-eu-west-invalidator: no schema for apps/v1beta9 Deployment in Kubernetes ${KUBERNETES_SCHEMA_VERSION}`,
    ]);
  });

  it('catches a mistake in a Kubernetes object the values pass through as they are', async () => {
    // values.schema.json cannot know Kubernetes' fields; the manifest check does.
    const manifests = render(
      binary,
      'eu-west',
      json('reader.extraVolumeMounts', [{ name: 'x', mountPath: '/x', readonly: true }]),
    );
    const problems = await schemas.validate(find(manifests, 'Deployment', 'fabric-eu-west-reader'));
    expect(problems).toContainEqual(
      expect.stringMatching(/\/spec\/template\/spec\/containers\/0\/volumeMounts\/\d+\/readonly: unknown field/),
    );
  });
});
