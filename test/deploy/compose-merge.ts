/**
 * How Compose merges a file given with a second `-f` into the first (the Compose
 * specification's merge rules, the parts these files use): mappings merge key by key;
 * `command`, `entrypoint` and `healthcheck.test` are replaced; `volumes`, `configs` and
 * `secrets` merge by their path in the container, `ports` by their text; other sequences
 * (a service's `networks`) gain the entries they lack.
 */
type Value = unknown;
type Mapping = Record<string, Value>;

const REPLACED = new Set(['command', 'entrypoint']);

const isMapping = (v: Value): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The container path a service's volume, config or secret occupies. */
function mountTarget(entry: Value): string {
  if (typeof entry === 'string') return entry.split(':')[1] ?? entry;
  if (isMapping(entry)) return String(entry.target ?? entry.source);
  throw new Error(`not a mount: ${JSON.stringify(entry)}`);
}

const UNIQUE_BY: Record<string, (entry: Value) => string> = {
  volumes: mountTarget,
  configs: mountTarget,
  secrets: mountTarget,
  ports: (entry) => JSON.stringify(entry),
};

function mergeUnique(base: Value[], over: Value[], key: (entry: Value) => string): Value[] {
  const merged = new Map(base.map((entry) => [key(entry), entry]));
  for (const entry of over) merged.set(key(entry), entry);
  return [...merged.values()];
}

function mergeMappings(base: Mapping, over: Mapping, mergeValue: (key: string, a: Value, b: Value) => Value): Mapping {
  const out: Mapping = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = key in out ? mergeValue(key, out[key], value) : value;
  return out;
}

function mergeGeneric(_key: string, base: Value, over: Value): Value {
  if (isMapping(base) && isMapping(over)) return mergeMappings(base, over, mergeGeneric);
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over.filter((v) => !base.includes(v))];
  return over;
}

function mergeServiceKey(key: string, base: Value, over: Value): Value {
  if (REPLACED.has(key)) return over;
  if (key === 'healthcheck' && isMapping(base) && isMapping(over)) return { ...base, ...over };
  const unique = UNIQUE_BY[key];
  if (unique && Array.isArray(base) && Array.isArray(over)) return mergeUnique(base, over, unique);
  return mergeGeneric(key, base, over);
}

/** `over` (a later `-f` file) merged into `base`, both already parsed and interpolated. */
export function mergeComposeFiles(base: Mapping, over: Mapping): Mapping {
  return mergeMappings(base, over, (key, a, b) => {
    if (key !== 'services' || !isMapping(a) || !isMapping(b)) return mergeGeneric(key, a, b);
    return mergeMappings(a, b, (_name, service, override) =>
      isMapping(service) && isMapping(override) ? mergeMappings(service, override, mergeServiceKey) : override,
    );
  });
}
