import { beforeAll, describe, expect, it } from 'vitest';
import { HOME } from './compose-file.js';
import { container, ensureHelm, find, type Probe, render } from './helm.js';

const budgetSeconds = (p: Probe) => (p.initialDelaySeconds ?? 0) + p.periodSeconds * p.failureThreshold;

describe('Helm chart probes, per component', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  const containerOf = (name: string, extra: string[] = []) =>
    container(find(render(binary, HOME, extra), 'Deployment', `fabric-${HOME}-${name}`));

  it('gives a reader an hour to set up, and only restarts it when its process stops answering', () => {
    const reader = containerOf('reader');
    // The reader listens only once slot and publication exist: on a standby, waiting for
    // the publication and for slot creation, which can take long. Until the startup probe
    // passes, liveness does not run.
    expect(reader.startupProbe.httpGet).toEqual({ path: '/metrics', port: 'metrics' });
    expect(budgetSeconds(reader.startupProbe)).toBeGreaterThanOrEqual(3600);
    // /healthz is 503 while Kafka is away or the stream restarts; a restart would not help.
    expect(reader.livenessProbe.httpGet.path).toBe('/metrics');
    expect(reader.readinessProbe.httpGet.path).toBe('/healthz');
  });

  it('restarts an invalidator whose consumer gave up, and a control plane that stopped serving', () => {
    const invalidator = containerOf('invalidator');
    expect(invalidator.startupProbe.httpGet.path).toBe('/metrics');
    expect(budgetSeconds(invalidator.startupProbe)).toBeGreaterThanOrEqual(600);
    expect([invalidator.livenessProbe.httpGet.path, invalidator.readinessProbe.httpGet.path]).toEqual([
      '/healthz',
      '/healthz',
    ]);
    // Red only after the invalidator's own grace; a minute more before a restart.
    expect(budgetSeconds(invalidator.livenessProbe)).toBeGreaterThanOrEqual(60);
    const controlPlane = containerOf('control-plane');
    for (const p of [controlPlane.startupProbe, controlPlane.livenessProbe, controlPlane.readinessProbe])
      expect(p.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
  });

  it('takes every probe setting from the values of its own component', () => {
    const reader = containerOf('reader', [
      '--set-json',
      'reader.probes.startup={"path":"/healthz","periodSeconds":30,"timeoutSeconds":5,"failureThreshold":240}',
      '--set',
      'reader.probes.liveness.initialDelaySeconds=7',
    ]);
    expect(reader.startupProbe).toEqual({
      httpGet: { path: '/healthz', port: 'metrics' },
      periodSeconds: 30,
      timeoutSeconds: 5,
      failureThreshold: 240,
    });
    expect(reader.livenessProbe.initialDelaySeconds).toBe(7);
    // The invalidator keeps its own.
    expect(
      containerOf('invalidator', ['--set', 'reader.probes.liveness.initialDelaySeconds=7']).livenessProbe,
    ).not.toHaveProperty('initialDelaySeconds');
  });

  it('lets the reader Service answer while the reader is not ready, so its reason reaches the control plane', () => {
    const manifests = render(binary, HOME);
    expect(find(manifests, 'Service', `fabric-${HOME}-reader`).spec.publishNotReadyAddresses).toBe(true);
    // Any ready invalidator answers for the region's group.
    expect(find(manifests, 'Service', `fabric-${HOME}-invalidator`).spec.publishNotReadyAddresses).toBeUndefined();
  });

  it('refuses a probe path the components do not serve', () => {
    expect(() => render(binary, HOME, ['--set', 'invalidator.probes.liveness.path=/livez'])).toThrow(
      /invalidator\.probes\.liveness\.path: invalidator\.probes\.liveness\.path must be one of the following: "\/healthz", "\/metrics"/,
    );
  });
});
