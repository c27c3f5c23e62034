import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadCompose, ROOT } from '../deploy/compose-file.js';

const OVERRIDE = 'deploy/containers/compose.podman.yml';

/** The podman override as written: YAML merge keys resolved, nothing interpolated. */
function override(): { services: Record<string, Record<string, unknown>> } & Record<string, unknown> {
  const doc = parseDocument(readFileSync(path.join(ROOT, OVERRIDE), 'utf8'), { merge: true, prettyErrors: true });
  if (doc.errors.length > 0) throw doc.errors[0];
  return doc.toJS();
}

// The override scripts/containers.sh adds on podman: it may only say how images are found
// here (never pulled), so the stack it runs is the one a laptop's Docker runs.
describe(`${OVERRIDE}`, () => {
  const regions = loadCompose({ FABRIC_TOKEN_SHA256: 'a'.repeat(64) });

  it('names exactly the services of docker-compose.regions.yml', () => {
    expect(Object.keys(override().services).sort()).toEqual(Object.keys(regions.services).sort());
  });

  it('only stops images being pulled', () => {
    const { services, ...top } = override();
    expect(Object.keys(top).filter((key) => !key.startsWith('x-'))).toEqual([]);
    for (const [name, service] of Object.entries(services)) expect(service, name).toEqual({ pull_policy: 'never' });
  });
});
