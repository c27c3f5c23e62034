import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { hashToken, requiredScope, TokenAuthenticator } from '../src/auth.js';
import type { RpcError } from '../src/rpc-error.js';

const auth = new TokenAuthenticator([
  { name: 'dashboards', scopes: ['read'], sha256: hashToken('read-token') },
  { name: 'ops', scopes: ['read', 'admin'], sha256: hashToken('admin-token') },
  { name: 'automation', scopes: ['admin'], sha256: hashToken('admin-only') },
]);

function bearer(value?: string): Metadata {
  const m = new Metadata();
  if (value !== undefined) m.set('authorization', value);
  return m;
}

function refusal(path: string, metadata: Metadata): RpcError {
  try {
    auth.authorize(path, metadata);
  } catch (err) {
    return err as RpcError;
  }
  throw new Error(`${path} was allowed`);
}

const INVALIDATE = '/fabric.v1.InvalidationService/Invalidate';
const REPLAY = '/fabric.v1.DeadLetterService/ReplayDeadLetters';
const GET_LAG = '/fabric.v1.LagService/GetLag';

describe('requiredScope', () => {
  it('asks admin for the RPCs that change something, read for the rest, nothing for health', () => {
    expect(requiredScope(INVALIDATE)).toBe('admin');
    expect(requiredScope(REPLAY)).toBe('admin');
    expect(requiredScope('/fabric.v1.DeadLetterService/ResolveDeadLetters')).toBe('admin');
    expect(requiredScope('/fabric.v1.ContinuityService/Resync')).toBe('admin');
    expect(requiredScope(GET_LAG)).toBe('read');
    expect(requiredScope('/fabric.v1.DeadLetterService/ListDeadLetters')).toBe('read');
    expect(requiredScope('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo')).toBe('read');
    expect(requiredScope('/grpc.health.v1.Health/Check')).toBeUndefined();
  });
});

describe('TokenAuthenticator', () => {
  it('lets health through without a token', () => {
    expect(auth.authorize('/grpc.health.v1.Health/Watch', bearer())).toBeUndefined();
  });

  it('refuses a missing, malformed or unknown token as UNAUTHENTICATED', () => {
    expect(refusal(GET_LAG, bearer())).toMatchObject({
      code: status.UNAUTHENTICATED,
      message: expect.stringContaining('missing'),
    });
    expect(refusal(GET_LAG, bearer('read-token'))).toMatchObject({
      code: status.UNAUTHENTICATED,
      message: expect.stringContaining('Bearer <token>'),
    });
    expect(refusal(GET_LAG, bearer('Bearer nope'))).toMatchObject({
      code: status.UNAUTHENTICATED,
      message: 'unknown token',
    });
  });

  it('never quotes the presented token in a refusal', () => {
    for (const [path, value] of [
      [GET_LAG, 'Bearer sekrit-unknown-1'],
      [GET_LAG, 'sekrit-unknown-1'],
      [GET_LAG, 'Bearer sekrit-unknown-1 trailing'],
      [INVALIDATE, 'Bearer read-token'],
    ] as const) {
      const { message } = refusal(path, bearer(value));
      expect(message).not.toContain('sekrit');
      expect(message).not.toContain('read-token');
    }
  });

  it('refuses admin RPCs to a read token as PERMISSION_DENIED, naming the scope', () => {
    expect(refusal(INVALIDATE, bearer('Bearer read-token'))).toMatchObject({
      code: status.PERMISSION_DENIED,
      message: expect.stringContaining('"admin" scope'),
    });
    expect(refusal(REPLAY, bearer('Bearer read-token')).code).toBe(status.PERMISSION_DENIED);
  });

  it('names the caller and lets admin do reads too', () => {
    expect(auth.authorize(GET_LAG, bearer('Bearer read-token'))?.name).toBe('dashboards');
    expect(auth.authorize(INVALIDATE, bearer('bearer admin-token'))?.name).toBe('ops');
    expect(auth.authorize(GET_LAG, bearer('Bearer admin-only'))?.name).toBe('automation');
  });
});
