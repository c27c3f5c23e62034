import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
export const HOME = 'us-east';

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  networks?: string[];
  ports?: string[];
  volumes?: string[];
  configs?: Array<{ source: string; target: string }>;
  restart?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks: Record<string, { name?: string }>;
  configs: Record<string, { file?: string; content?: string }>;
  volumes: Record<string, unknown>;
}

/** Parses like Compose does: YAML merge keys resolved, then ${...} interpolated from `env`. */
export function loadCompose(env: Record<string, string | undefined>): ComposeFile {
  const doc = parseDocument(readFileSync(path.join(ROOT, 'docker-compose.regions.yml'), 'utf8'), {
    merge: true,
    prettyErrors: true,
  });
  if (doc.errors.length > 0) throw doc.errors[0];
  return interpolate(doc.toJS({ maxAliasCount: -1 }), env) as ComposeFile;
}

/** Compose's variable syntax: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
export function interpolate(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
      (match, name: string | undefined, colon: string, op: string, arg: string) => {
        if (match === '$$') return '$';
        const raw = env[name!];
        const missing = raw === undefined || (colon === ':' && raw === '');
        if (!missing) return raw;
        if (op === '?') throw new Error(`required variable ${name} is missing: ${arg}`);
        return op === '-' ? arg : '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

/** The services a region owns, by their role suffix (`eu-west-kafka` -> `kafka`). */
export function regionServices(compose: ComposeFile, region: string): Record<string, ComposeService> {
  return Object.fromEntries(
    Object.entries(compose.services)
      .filter(([name]) => name.startsWith(`${region}-`))
      .map(([name, service]) => [name.slice(region.length + 1), service]),
  );
}

/** A one-shot service is one others wait on to have completed successfully. */
export function oneShotServices(compose: ComposeFile): Set<string> {
  const names = new Set<string>();
  for (const service of Object.values(compose.services)) {
    for (const [target, dep] of Object.entries(service.depends_on ?? {})) {
      if (dep.condition === 'service_completed_successfully') names.add(target);
    }
  }
  return names;
}

/** Environment a service's process sees, as strings. */
export function serviceEnv(service: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
}
