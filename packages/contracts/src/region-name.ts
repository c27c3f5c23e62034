/**
 * A region's name ends up in topic names, consumer groups, slot and subscription names,
 * file paths and Kubernetes objects, so it is held to what all of them accept: 2-24
 * lowercase letters, digits and dashes, starting with a letter and not ending with a dash.
 * deploy/helm/fabric-region/values.schema.json repeats this pattern; a test keeps them equal.
 */
export const REGION_NAME = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;

export function isRegionName(name: unknown): name is string {
  return typeof name === 'string' && REGION_NAME.test(name);
}

/** Why `name` is not a region name, for the caller's config error; undefined when it is one. */
export function regionNameError(name: unknown): string | undefined {
  if (isRegionName(name)) return undefined;
  return `${JSON.stringify(name)} is not a region name: use 2-24 lowercase letters, digits and dashes, starting with a letter and not ending with a dash (e.g. eu-west)`;
}
