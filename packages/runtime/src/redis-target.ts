import { ConfigError } from './config-error.js';
import { integerFlag } from './flags.js';
import { redact } from './redact.js';

export interface RedisTarget {
  /** One standalone server, or the seed nodes of a Redis Cluster. */
  mode: 'standalone' | 'cluster';
  nodes: Array<{ host: string; port: number }>;
  db: number;
  username?: string;
  password?: string;
  tls?: { ca?: string; servername?: string };
  commandTimeoutMs: number;
}

/** The Redis flags every component that talks to a region's Redis takes (for parseArgs). */
export const REDIS_OPTIONS = {
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  'redis-user': { type: 'string' },
  'redis-password-file': { type: 'string' },
  'redis-tls': { type: 'boolean' },
  'redis-tls-ca': { type: 'string' },
  'redis-timeout-ms': { type: 'string' },
} as const;

/** Their --help lines. */
export const REDIS_HELP = `  --redis URL             redis://[user:pass@]host:port[/db], rediss:// for TLS [FABRIC_REDIS_URL]
  --redis-cluster H:P,... Seed nodes of a Redis Cluster instead of --redis [FABRIC_REDIS_CLUSTER]
  --redis-user NAME       ACL user [FABRIC_REDIS_USER]
  --redis-password-file F ACL password, read from a file; or [FABRIC_REDIS_PASSWORD]
  --redis-tls             TLS to Redis (implied by rediss://)
  --redis-tls-ca FILE     CA bundle to verify the Redis server certificate
  --redis-timeout-ms N    Fail a Redis command after this long, then retry (default 2000)
`;

export interface RedisFlagValues {
  redis?: string;
  'redis-cluster'?: string;
  'redis-user'?: string;
  'redis-password-file'?: string;
  'redis-tls'?: boolean;
  'redis-tls-ca'?: string;
  'redis-timeout-ms'?: string;
}

const HOST_PORT = /^([^:\s]+):(\d{1,5})$/;

export function parseRedisTarget(
  values: RedisFlagValues,
  env: NodeJS.ProcessEnv,
  readFile: (f: string) => string,
): RedisTarget {
  const url = values.redis ?? env.FABRIC_REDIS_URL;
  const cluster = values['redis-cluster'] ?? env.FABRIC_REDIS_CLUSTER;
  if (url && cluster) throw new ConfigError('--redis-cluster', 'give either --redis or --redis-cluster, not both');
  if (!url && !cluster) throw new ConfigError('--redis', 'is required (or --redis-cluster); see --help');
  const commandTimeoutMs = integerFlag('--redis-timeout-ms', values['redis-timeout-ms'] ?? '2000', 50, 600_000);
  let target: RedisTarget;
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError('--redis', `"${redact(url)}" is not a URL; expected redis://host:port`);
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
      throw new ConfigError('--redis', `must start with redis:// or rediss://, got "${parsed.protocol}"`);
    const db = parsed.pathname.length > 1 ? integerFlag('--redis', parsed.pathname.slice(1), 0, 15) : 0;
    target = {
      mode: 'standalone',
      nodes: [{ host: parsed.hostname, port: parsed.port ? integerFlag('--redis', parsed.port, 1, 65535) : 6379 }],
      db,
      username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
      password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
      tls: parsed.protocol === 'rediss:' ? {} : undefined,
      commandTimeoutMs,
    };
  } else {
    target = { mode: 'cluster', nodes: hostPorts('--redis-cluster', cluster!), db: 0, commandTimeoutMs };
  }
  const username = values['redis-user'] ?? env.FABRIC_REDIS_USER;
  if (username) target.username = username;
  const passwordFile = values['redis-password-file'];
  if (passwordFile) {
    try {
      target.password = readFile(passwordFile).trim();
    } catch (err) {
      throw new ConfigError('--redis-password-file', `cannot read ${passwordFile}: ${(err as Error).message}`);
    }
  } else if (env.FABRIC_REDIS_PASSWORD) {
    target.password = env.FABRIC_REDIS_PASSWORD;
  }
  if (values['redis-tls'] || values['redis-tls-ca']) target.tls = { ...target.tls };
  const caFile = values['redis-tls-ca'];
  if (caFile) {
    try {
      target.tls!.ca = readFile(caFile);
    } catch (err) {
      throw new ConfigError('--redis-tls-ca', `cannot read ${caFile}: ${(err as Error).message}`);
    }
  }
  return target;
}

/**
 * Where a component is trying to reach Redis, for log lines and errors: the scheme, user,
 * nodes and database, never the password (it is not part of the text at all).
 */
export function describeRedisTarget(target: RedisTarget): string {
  const nodes = target.nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (target.mode === 'cluster') return `cluster ${nodes}${target.username ? ` as ${target.username}` : ''}`;
  return `${target.tls ? 'rediss' : 'redis'}://${target.username ? `${target.username}@` : ''}${nodes}/${target.db}`;
}

export function hostPorts(path: string, raw: string): Array<{ host: string; port: number }> {
  return raw.split(',').map((entry, i) => {
    const m = HOST_PORT.exec(entry.trim());
    if (!m) throw new ConfigError(`${path}[${i}]`, `"${entry.trim()}" must be host:port`);
    return { host: m[1]!, port: integerFlag(`${path}[${i}]`, m[2]!, 1, 65535) };
  });
}
