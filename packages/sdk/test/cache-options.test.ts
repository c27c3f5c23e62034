import type { Redis } from 'ioredis';
import type { ClientBase } from 'pg';
import { describe, expect, it } from 'vitest';
import { FabricCache } from '../src/cache.js';
import { emitInvalidation } from '../src/emit.js';
import { CacheOptionsError, InvalidationPayloadError } from '../src/errors.js';
import { DEFAULT_VERSION_TTL_SECONDS } from '../src/layout.js';

const base = { ttlSeconds: 60, ttlJitter: 0.1, leaseMs: 1000, waitMs: 500 };
const noRedis = {} as Redis;

describe('FabricCache options', () => {
  it('rejects options that cannot work', () => {
    expect(() => new FabricCache(noRedis, { ...base, ttlJitter: 1.5 })).toThrow(CacheOptionsError);
    expect(() => new FabricCache(noRedis, { ...base, ttlSeconds: 0 })).toThrow(CacheOptionsError);
    expect(() => new FabricCache(noRedis, { ...base, leaseMs: -1 })).toThrow(CacheOptionsError);
    expect(() => new FabricCache(noRedis, base)).not.toThrow();
  });

  it('refuses a ttlSeconds that could outlive the version keys, naming both options and the fix', () => {
    // An entry filled before its version key existed must expire before that key does.
    const refused =
      /ttlSeconds must be below versionTtlSeconds \(3600, the invalidator's --version-ttl-seconds\), got 3600: shorten it or raise both/;
    expect(() => new FabricCache(noRedis, { ...base, ttlSeconds: 3600, versionTtlSeconds: 3600 })).toThrow(refused);
    expect(() => new FabricCache(noRedis, { ...base, ttlSeconds: 7200, versionTtlSeconds: 3600 })).toThrow(
      CacheOptionsError,
    );
    expect(() => new FabricCache(noRedis, { ...base, ttlSeconds: 3599, versionTtlSeconds: 3600 })).not.toThrow();
    // Unset, it is the invalidator's default --version-ttl-seconds.
    expect(() => new FabricCache(noRedis, { ...base, ttlSeconds: DEFAULT_VERSION_TTL_SECONDS })).toThrow(
      /versionTtlSeconds/,
    );
    expect(() => new FabricCache(noRedis, { ...base, ttlSeconds: DEFAULT_VERSION_TTL_SECONDS - 1 })).not.toThrow();
  });

  it('bounds the stale copy: 2 × ttlSeconds unless set, never beyond 4 × ttlSeconds', () => {
    expect(() => new FabricCache(noRedis, { ...base, staleOk: true, maxStaleSeconds: 241 })).toThrow(
      /maxStaleSeconds must be within 0..4 × ttlSeconds \(240\), got 241: lower it/,
    );
    expect(() => new FabricCache(noRedis, { ...base, staleOk: true, maxStaleSeconds: 0 })).toThrow(CacheOptionsError);
    expect(() => new FabricCache(noRedis, { ...base, staleOk: true, maxStaleSeconds: 240 })).not.toThrow();
  });
});

describe('emitInvalidation', () => {
  function recorder() {
    const calls: Array<{ text: string; values: unknown[] }> = [];
    const client = {
      query: async (text: string, values: unknown[]) => void calls.push({ text, values }),
    } as unknown as ClientBase;
    return { calls, client };
  }

  it('sends the JSON payload as a logical message or an outbox row', async () => {
    const { calls, client } = recorder();
    await emitInvalidation(client, { keys: ['user:1'], tags: ['team:7'] }, 'message');
    await emitInvalidation(client, { versions: ['ver:user:1'] }, 'outbox');
    expect(calls[0]).toEqual({
      text: "select pg_logical_emit_message(true, 'fabric', $1)",
      values: ['{"keys":["user:1"],"tags":["team:7"],"versions":[]}'],
    });
    expect(calls[1]).toEqual({
      text: 'insert into fabric.outbox (payload) values ($1::jsonb)',
      values: ['{"keys":[],"tags":[],"versions":["ver:user:1"]}'],
    });
  });

  it('refuses payloads the reader would dead-letter', async () => {
    const { calls, client } = recorder();
    await expect(emitInvalidation(client, {}, 'message')).rejects.toThrow(InvalidationPayloadError);
    await expect(emitInvalidation(client, { keys: [''] }, 'message')).rejects.toThrow(InvalidationPayloadError);
    // What jsonb (the outbox, the relay) cannot store, and a lone surrogate Redis would see as another key.
    await expect(emitInvalidation(client, { keys: ['user:\u0000'] }, 'outbox')).rejects.toThrow(/U\+0000/);
    await expect(emitInvalidation(client, { tags: ['t\ud800'] }, 'message')).rejects.toThrow(/lone UTF-16 surrogate/);
    expect(calls).toHaveLength(0);
  });
});
