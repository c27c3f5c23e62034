import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRegionName, REGION_NAME, regionNameError } from '../src/index.js';

describe('region names', () => {
  it.each(['us-east', 'eu-west', 'ap-south-2', 'r1', 'a'.repeat(24)])('accepts %s', (name) => {
    expect(isRegionName(name)).toBe(true);
    expect(regionNameError(name)).toBeUndefined();
  });

  it.each(['EU', 'eu_west', 'a', '1-east', 'eu-west-', '-eu', 'a'.repeat(25), '', 42, undefined])(
    'rejects %j with one text naming the rule',
    (name) => {
      expect(isRegionName(name)).toBe(false);
      expect(regionNameError(name)).toBe(
        `${JSON.stringify(name)} is not a region name: use 2-24 lowercase letters, digits and dashes, starting with a letter and not ending with a dash (e.g. eu-west)`,
      );
    },
  );

  it('is the pattern the Helm chart validates region values with', () => {
    const schema = JSON.parse(
      readFileSync(new URL('../../../deploy/helm/fabric-region/values.schema.json', import.meta.url), 'utf8'),
    ) as { definitions: { region: { pattern: string } } };
    expect(schema.definitions.region.pattern).toBe(REGION_NAME.source);
  });
});
