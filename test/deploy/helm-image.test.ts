import { beforeAll, describe, expect, it } from 'vitest';
import { HOME } from './compose-file.js';
import { ensureHelm, type Manifest, podSpec, render } from './helm.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** Every image of the release: workers, init containers and the helm test pod. */
const images = (manifests: Manifest[]) =>
  manifests
    .filter((m) => m.kind === 'Deployment' || m.kind === 'Pod')
    .flatMap((m) => [...(podSpec(m).initContainers ?? []), ...podSpec(m).containers])
    .map((c: { image: string }) => c.image);

describe('Helm chart image', () => {
  let binary: string;
  beforeAll(() => {
    binary = ensureHelm();
  }, 200_000);

  it('runs the tag by default, the chart’s appVersion without one', () => {
    expect(new Set(images(render(binary, HOME)))).toEqual(new Set(['fabric:0.1.0']));
    expect(new Set(images(render(binary, HOME, ['--set', 'image.tag='])))).toEqual(new Set(['fabric:0.1.0']));
    expect(new Set(images(render(binary, HOME, ['--set', 'image.tag=0.2.0'])))).toEqual(new Set(['fabric:0.2.0']));
  });

  it('pins every container by digest when one is given, whatever the tag says', () => {
    const all = images(
      render(binary, HOME, ['--set', 'image.repository=registry.example/fabric', '--set', `image.digest=${DIGEST}`]),
    );
    // reader (and its init container), invalidator, control plane, helm test
    expect(all).toHaveLength(5);
    expect(new Set(all)).toEqual(new Set([`registry.example/fabric@${DIGEST}`]));
  });

  it('refuses a digest that is not sha256:<64 hex>', () => {
    expect(() => render(binary, HOME, ['--set', 'image.digest=sha256:abc'])).toThrow(
      /image\.digest: Does not match pattern/,
    );
    expect(() => render(binary, HOME, ['--set', 'image.digest=0.1.0'])).toThrow(
      /image\.digest: Does not match pattern/,
    );
  });
});
