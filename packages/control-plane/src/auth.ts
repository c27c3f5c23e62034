import { createHash, timingSafeEqual } from 'node:crypto';
import { type Metadata, status } from '@grpc/grpc-js';
import { RpcError } from './rpc-error.js';

export const SCOPES = ['read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A configured token: only its SHA-256 is kept, so the config file holds no secret. */
export interface TokenEntry {
  name: string;
  scopes: Scope[];
  sha256: string;
}

export interface Principal {
  /** The token's name, for logs of who did what. */
  name: string;
  scopes: ReadonlySet<Scope>;
}

/**
 * What each RPC path needs. Health stays open so load balancers and Kubernetes probes
 * need no secret; it reveals nothing but "serving". Reflection needs `read`: it
 * describes the API, and grpcurl sends the same -H headers with it.
 */
const OPEN_SERVICES = new Set(['grpc.health.v1.Health']);
const ADMIN_METHODS = new Set([
  '/fabric.v1.DeadLetterService/ReplayDeadLetters',
  '/fabric.v1.DeadLetterService/ResolveDeadLetters',
  '/fabric.v1.InvalidationService/Invalidate',
  '/fabric.v1.ContinuityService/Resync',
]);

export function requiredScope(path: string): Scope | undefined {
  const service = path.split('/')[1] ?? '';
  if (OPEN_SERVICES.has(service)) return undefined;
  return ADMIN_METHODS.has(path) ? 'admin' : 'read';
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Bearer-token check for every call; `admin` includes `read`. */
export class TokenAuthenticator {
  private readonly tokens: Array<{ entry: TokenEntry; digest: Buffer }>;

  constructor(tokens: TokenEntry[]) {
    this.tokens = tokens.map((entry) => ({ entry, digest: Buffer.from(entry.sha256, 'hex') }));
  }

  /** The caller of `path`, or undefined for open services; throws UNAUTHENTICATED / PERMISSION_DENIED. */
  authorize(path: string, metadata: Metadata): Principal | undefined {
    const needed = requiredScope(path);
    if (!needed) return undefined;
    const principal = this.authenticate(metadata);
    if (!principal.scopes.has(needed) && !principal.scopes.has('admin')) {
      throw new RpcError(
        status.PERMISSION_DENIED,
        `${path} needs a token with the "${needed}" scope; token "${principal.name}" has ${[...principal.scopes].join(', ')}`,
      );
    }
    return principal;
  }

  private authenticate(metadata: Metadata): Principal {
    const values = metadata.get('authorization');
    if (values.length === 0)
      throw new RpcError(status.UNAUTHENTICATED, 'missing "authorization: Bearer <token>" metadata');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(String(values[0]));
    if (!match) throw new RpcError(status.UNAUTHENTICATED, 'authorization metadata must be "Bearer <token>"');
    const presented = createHash('sha256').update(match[1]!, 'utf8').digest();
    // Compare against every token in constant time, so timing reveals nothing about which
    // digest came close.
    let found: TokenEntry | undefined;
    for (const { entry, digest } of this.tokens) {
      if (timingSafeEqual(presented, digest) && !found) found = entry;
    }
    if (!found) throw new RpcError(status.UNAUTHENTICATED, 'unknown token');
    return { name: found.name, scopes: new Set(found.scopes) };
  }
}
