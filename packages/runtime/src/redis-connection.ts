import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './redis-target.js';

/**
 * A client that fails fast while Redis is unreachable instead of queueing commands without
 * bound: its callers have their own retries (the invalidator's backoff and DLQ, the reader's
 * confirmations that wait), and an offline queue
 * would hide an outage behind ever-growing memory. It keeps reconnecting in the background.
 */
export function connectRedis(target: RedisTarget, connectionName: string): Redis | Cluster {
  const common: RedisOptions = {
    username: target.username,
    password: target.password,
    tls: target.tls ? { ca: target.tls.ca, servername: target.tls.servername } : undefined,
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: target.commandTimeoutMs,
    connectTimeout: Math.max(1000, target.commandTimeoutMs),
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  if (target.mode === 'cluster') {
    return new Cluster(target.nodes, {
      redisOptions: common,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      // A cluster rejects commands while slots move; ioredis follows MOVED/ASK itself.
      maxRedirections: 16,
    });
  }
  return new Redis({ ...common, ...target.nodes[0], db: target.db });
}
