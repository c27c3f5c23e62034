import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHelm, find, type Manifest, podSpec, render } from './helm.js';

const INVALIDATOR_SELECTOR = {
  'app.kubernetes.io/name': 'fabric-region',
  'app.kubernetes.io/instance': 'fabric-eu-west',
  'app.kubernetes.io/component': 'invalidator',
};

describe('Helm chart invalidator availability', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  const pdbs = (manifests: Manifest[]) => manifests.filter((m) => m.kind === 'PodDisruptionBudget');

  it('lets a drain take one invalidator at a time, selecting exactly their pods', () => {
    const manifests = render(binary, 'eu-west');
    const [pdb, ...others] = pdbs(manifests);
    expect(others).toEqual([]);
    expect(pdb!.metadata.name).toBe('fabric-eu-west-invalidator');
    expect(pdb!.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: INVALIDATOR_SELECTOR } });
    // The budget counts the Deployment's own pods.
    const deployment = find(manifests, 'Deployment', 'fabric-eu-west-invalidator');
    expect(deployment.spec.selector.matchLabels).toEqual(INVALIDATOR_SELECTOR);
    expect(deployment.spec.template.metadata.labels).toMatchObject(INVALIDATOR_SELECTOR);
  });

  it('takes minAvailable instead when given, and renders no budget when turned off', () => {
    const [pdb] = pdbs(render(binary, 'eu-west', ['--set', 'invalidator.podDisruptionBudget.minAvailable=50%']));
    expect(pdb!.spec).toEqual({ minAvailable: '50%', selector: { matchLabels: INVALIDATOR_SELECTOR } });
    expect(pdbs(render(binary, 'eu-west', ['--set', 'invalidator.podDisruptionBudget.enabled=false']))).toEqual([]);
  });

  it('spreads invalidators over zones and nodes by default, preferring rather than refusing', () => {
    const spec = podSpec(find(render(binary, 'eu-west'), 'Deployment', 'fabric-eu-west-invalidator'));
    expect(spec.topologySpreadConstraints).toEqual(
      ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: INVALIDATOR_SELECTOR },
      })),
    );
    // The reader is one pod: nothing to spread.
    expect(
      podSpec(find(render(binary, 'eu-west'), 'Deployment', 'fabric-eu-west-reader')).topologySpreadConstraints,
    ).toBeUndefined();
  });

  it('takes constraints of your own instead, or none', () => {
    const own = [
      {
        maxSkew: 2,
        topologyKey: 'rack',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { a: 'b' } },
      },
    ];
    const given = render(binary, 'eu-west', [
      '--set-json',
      `invalidator.topologySpreadConstraints=${JSON.stringify(own)}`,
    ]);
    expect(podSpec(find(given, 'Deployment', 'fabric-eu-west-invalidator')).topologySpreadConstraints).toEqual(own);
    const off = render(binary, 'eu-west', ['--set', 'invalidator.topologySpread.enabled=false']);
    expect(podSpec(find(off, 'Deployment', 'fabric-eu-west-invalidator')).topologySpreadConstraints).toBeUndefined();
  });
});
