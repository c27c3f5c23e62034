import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashToken } from '@fabric/control-plane';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ReaderUnderTest, readerFor } from '../cdc/harness.js';
import { closedPort } from '../control-plane/harness.js';
import { type InvalidatorUnderTest, invalidatorFor } from '../invalidator/harness.js';
import { eventually } from '../support.js';
import { HOME, ROOT } from './compose-file.js';
import { CHART, type Container, ensureHelm, find, type Manifest, podSpec, render } from './helm.js';

const testPod = (manifests: Manifest[], region = HOME) => find(manifests, 'Pod', `fabric-${region}-test-health`);
const args = (pod: Manifest) => (podSpec(pod).containers[0] as Container).args;

describe('Helm chart `helm test`', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  it("is a test hook asking every component's /healthz through its Service, and the control plane's gRPC health", () => {
    const manifests = render(binary, HOME);
    const pod = testPod(manifests);
    expect(pod.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(args(pod)).toEqual([
      'node',
      '/app/deploy/chart-scripts/helm-test.mjs',
      `--healthz=cdc-reader=http://fabric-${HOME}-reader:9464/healthz`,
      `--healthz=invalidator=http://fabric-${HOME}-invalidator:9464/healthz`,
      `--healthz=control-plane=http://fabric-${HOME}-control-plane:9464/healthz`,
      `--grpc=fabric-${HOME}-control-plane:50051`,
    ]);
    // Each URL is a Service of the release, on the port it serves.
    for (const a of args(pod).slice(2)) {
      const { hostname, port } = new URL(
        a.includes('=http') ? a.slice(a.indexOf('http')) : `grpc://${a.split('=')[1]}`,
      );
      const service = find(manifests, 'Service', hostname);
      expect(service.spec.ports.map((p: { port: number }) => String(p.port))).toContain(port);
    }
    const scripts = find(manifests, 'ConfigMap', `fabric-${HOME}-chart-scripts`).data!;
    expect(scripts['helm-test.mjs']).toBe(readFileSync(path.join(CHART, 'files/helm-test.mjs'), 'utf8'));
  });

  it('reaches the components through the network policies, and nothing reaches it', () => {
    const manifests = render(binary, HOME);
    const policy = find(manifests, 'NetworkPolicy', `fabric-${HOME}-helm-test`).spec;
    expect(policy.ingress).toBeUndefined();
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.egress[1].ports).toEqual([
      { port: 9464, protocol: 'TCP' },
      { port: 50051, protocol: 'TCP' },
    ]);
    const testSelector = {
      podSelector: { matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'helm-test' }) },
    };
    for (const component of ['cdc-reader', 'invalidator', 'control-plane']) {
      const rules = find(manifests, 'NetworkPolicy', `fabric-${HOME}-${component}`).spec.ingress;
      expect(rules.at(-1).from, component).toContainEqual(testSelector);
    }
  });

  it('verifies a TLS control plane with its CA, skips gRPC under mTLS, and renders nothing when turned off', () => {
    const tls = testPod(render(binary, HOME, ['--set', 'controlPlane.tls.secretName=cp-tls']));
    expect(args(tls)).toEqual(
      expect.arrayContaining([
        `--grpc=fabric-${HOME}-control-plane:50051`,
        '--grpc-tls=on',
        '--grpc-ca=/etc/fabric/tls/ca.crt',
      ]),
    );
    expect(podSpec(tls).volumes).toContainEqual({
      name: 'tls-ca',
      secret: { secretName: 'cp-tls', optional: true, items: [{ key: 'ca.crt', path: 'ca.crt' }] },
    });
    const mtls = testPod(
      render(binary, HOME, [
        '--set',
        'controlPlane.tls.secretName=cp-tls',
        '--set',
        'controlPlane.tls.requireClientCerts=true',
      ]),
    );
    expect(args(mtls).filter((a) => a.startsWith('--grpc'))).toEqual([]);
    expect(args(testPod(render(binary, 'eu-west'), 'eu-west')).filter((a) => a.includes('control-plane'))).toEqual([]);
    const off = render(binary, HOME, ['--set', 'tests.enabled=false']);
    expect(off.filter((m) => m.kind === 'Pod' || m.metadata.name.endsWith('helm-test'))).toEqual([]);
  });
});

// The test pod's script, run as the chart runs it, against real components on the sandbox:
// a reader and an invalidator of this file's own, and the control plane binary.
describe('Helm chart `helm test` against running components', () => {
  const endpoints = inject('endpoints');
  const region = endpoints.regions.find((r) => r.home)!;
  let binary: string;
  let dir: string;
  let reader: ReaderUnderTest;
  let invalidator: InvalidatorUnderTest;
  let controlPlane: ChildProcess;
  const where: Record<string, string> = {};

  beforeAll(async () => {
    binary = ensureHelm();
    mkdirSync(path.join(ROOT, '.fabric'), { recursive: true });
    dir = mkdtempSync(path.join(ROOT, '.fabric/chart-scripts-'));
    const [readerPort, grpcPort, cpMetricsPort] = [await closedPort(), await closedPort(), await closedPort()];
    reader = await readerFor(region, { name: 'helmtest', extraArgs: ['--metrics-port', String(readerPort)] });
    await reader.start();
    invalidator = await invalidatorFor(region, {
      name: 'helmtest',
      topic: reader.topic,
      metricsPort: await closedPort(),
    });
    await invalidator.start();
    where['cdc-reader'] = `http://127.0.0.1:${readerPort}/healthz`;
    where.invalidator = `http://127.0.0.1:${invalidator.metricsPort}/healthz`;
    where['control-plane'] = `http://127.0.0.1:${cpMetricsPort}/healthz`;
    where.grpc = `127.0.0.1:${grpcPort}`;
    const config = path.join(dir, 'control-plane.json');
    writeFileSync(
      config,
      JSON.stringify({
        listen: { host: '127.0.0.1', port: grpcPort },
        metrics: { host: '127.0.0.1', port: cpMetricsPort },
        tokens: [{ name: 'helm-test', scopes: ['read'], sha256: hashToken('helm-test-token') }],
        regions: endpoints.regions.map((r) => ({
          name: r.region,
          home: r.home,
          postgresUrl: r.postgres.url,
          kafkaBrokers: r.kafka.brokers,
          readerStatusUrl: where['cdc-reader'],
          invalidatorStatusUrl: where.invalidator,
        })),
        replication: endpoints.replication,
      }),
    );
    controlPlane = spawn(
      process.execPath,
      [path.join(ROOT, 'packages/control-plane/dist/main.js'), `--config=${config}`],
      {
        stdio: 'ignore',
        env: { ...process.env, FABRIC_LOG_LEVEL: 'warn' },
      },
    );
    await eventually('control plane serving', async () =>
      (await fetch(where['control-plane']!).catch(() => undefined))?.ok ? true : undefined,
    );
    await eventually('reader healthy', async () =>
      (await fetch(where['cdc-reader']!).catch(() => undefined))?.ok ? true : undefined,
    );
  }, 200_000);
  afterAll(async () => {
    controlPlane?.kill('SIGTERM');
    await invalidator?.dispose();
    await reader?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The test pod's command with the release's Services replaced by these components' addresses. */
  const runTest = (addresses: Record<string, string>) => {
    const manifests = render(binary, HOME);
    const script = find(manifests, 'ConfigMap', `fabric-${HOME}-chart-scripts`).data!['helm-test.mjs']!;
    writeFileSync(path.join(dir, 'helm-test.mjs'), script);
    const here = args(testPod(manifests))
      .slice(2)
      .map((a) => {
        const [flag, value] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
        if (flag === '--grpc') return `--grpc=${addresses.grpc}`;
        const name = value.slice(0, value.indexOf('='));
        return `--healthz=${name}=${addresses[name]}`;
      });
    const run = spawnSync(process.execPath, [path.join(dir, 'helm-test.mjs'), ...here], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
  };

  it('passes when every component answers healthy', () => {
    const run = runTest(where);
    expect(run.status, run.output).toBe(0);
    for (const name of ['cdc-reader', 'invalidator', 'control-plane'])
      expect(run.output).toContain(`ok   ${name}: 200`);
    expect(run.output).toContain('ok   control-plane grpc: SERVING');
  });

  it('fails, saying which, when a component does not answer', async () => {
    const closed = `127.0.0.1:${await closedPort()}`;
    const run = runTest({ ...where, invalidator: `http://${closed}/healthz`, grpc: closed });
    expect(run.status, run.output).toBe(1);
    expect(run.output).toContain('ok   cdc-reader: 200');
    expect(run.output).toContain(`FAIL invalidator: no answer from http://${closed}/healthz`);
    expect(run.output).toContain(`FAIL control-plane grpc: ${closed}: `);
  });
});
