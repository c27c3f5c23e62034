import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { mergeComposeFiles } from './compose-merge.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
export const HOME = 'us-east';
export const STANDBYS = REGIONS.filter((r) => r !== HOME);

/** The stack as it runs by default: the other regions are physical standbys. */
export const PHYSICAL = ['docker-compose.regions.yml'];
/** With the override that makes them logical replicas instead. */
export const LOGICAL = [...PHYSICAL, 'docker-compose.logical.yml'];
export const MODES = { physical: PHYSICAL, logical: LOGICAL } as const;
export type Mode = keyof typeof MODES;

export interface ComposeService {
  image?: string;
  build?: unknown;
  entrypoint?: string[];
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

/**
 * Parses like Compose does: each file's YAML merge keys resolved and ${...} interpolated
 * from `env`, then every later file merged into the first (`docker compose -f a -f b`).
 */
export function loadCompose(env: Record<string, string | undefined>, files: readonly string[] = PHYSICAL): ComposeFile {
  const [first, ...rest] = files.map((file) => interpolate(parseFile(file), env) as Record<string, unknown>);
  return rest.reduce(mergeComposeFiles, first!) as unknown as ComposeFile;
}

function parseFile(file: string): unknown {
  const doc = parseDocument(readFileSync(path.join(ROOT, file), 'utf8'), { merge: true, prettyErrors: true });
  if (doc.errors.length > 0) throw doc.errors[0];
  return doc.toJS({ maxAliasCount: -1 });
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

/** A PostgreSQL service's `-c name=value` settings. */
export function postgresSettings(service: ComposeService): Record<string, string> {
  const args = service.command ?? [];
  return Object.fromEntries(
    args
      .filter((_, i) => args[i - 1] === '-c')
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** What the image's entrypoint runs on a database's first start, in order. */
export function initScripts(service: ComposeService): string[] {
  return (service.volumes ?? []).filter((v) => v.includes('/docker-entrypoint-initdb.d/'));
}
