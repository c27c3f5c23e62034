// The seeds' simpler designs, both running inside the writer process:
//  sync-del: after COMMIT the writer DELs the key in every region's Redis itself.
//  pubsub:   after COMMIT the writer PUBLISHes the key on every region's Redis; one
//            subscriber per region DELs it. Messages published while a subscriber is
//            disconnected are lost (Redis pub/sub is fire-and-forget).

import type { RegionEndpoints } from '@fabric/sandbox';
import type { RedisOptions } from 'ioredis';
import type { AfterCommit } from './writer.js';

/** Redis clients of the designs: fail a command fast rather than queue it. */
export const FAST_FAIL: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  commandTimeout: 500,
  retryStrategy: () => 100,
  lazyConnect: true,
};

export interface SeedDesign {
  /** region -> COMMIT returned → DEL returned, ms */
  readonly samples: Map<string, number[]>;
  /** region -> keys whose DEL failed */
  readonly failures: Map<string, number>;
  open(): Promise<void>;
  close(): void;
  /** The writer's afterCommit hook. */
  readonly afterCommit: AfterCommit;
}

export type SeedDesignClass = new (regions: readonly RegionEndpoints[]) => SeedDesign;

/** Adds n to a per-region counter. */
export function countFailures(failures: Map<string, number>, region: string, n: number): void {
  failures.set(region, (failures.get(region) ?? 0) + n);
}
