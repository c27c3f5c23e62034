import { setTimeout as sleep } from 'node:timers/promises';
import { type InvalidatorStatus, READER_SLOT } from '@fabric/contracts';
import { type RegionEndpoints, type SandboxEndpoints, SandboxError } from '@fabric/sandbox';
import pg from 'pg';
import type { Logger } from 'pino';

export class WorkersNotReadyError extends SandboxError {
  override readonly name = 'WorkersNotReadyError';
}

/**
 * "Ready" must mean a write is captured and applied: each region's reader holds its slot
 * (a change committed earlier than the slot would never be decoded) and each invalidator
 * holds partitions of its topic.
 */
export async function waitForWorkers(endpoints: SandboxEndpoints, logger: Logger, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(endpoints.regions.flatMap((r) => [`${r.region} cdc-reader`, `${r.region} invalidator`]));
  while (pending.size > 0) {
    await Promise.all(
      endpoints.regions.map(async (region) => {
        if (pending.has(`${region.region} cdc-reader`) && (await readerStreaming(region)))
          pending.delete(`${region.region} cdc-reader`);
        if (pending.has(`${region.region} invalidator`) && (await invalidatorAssigned(region)))
          pending.delete(`${region.region} invalidator`);
      }),
    );
    if (pending.size === 0) return;
    if (Date.now() > deadline)
      throw new WorkersNotReadyError(
        `not ready after ${timeoutMs / 1000} s: ${[...pending].join(', ')}; see ${endpoints.stateDir}/<region>/logs/`,
      );
    logger.debug({ waitingFor: [...pending] }, 'waiting for workers');
    await sleep(250);
  }
}

async function readerStreaming(region: RegionEndpoints): Promise<boolean> {
  const client = new pg.Client({ connectionString: region.postgres.url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    // Held by a walsender, not merely active: the session that creates a slot holds it too,
    // and on a standby it holds it until the primary logs running transactions; a change
    // committed in that window is before the slot's start and is never decoded.
    const { rows } = await client.query(
      `select 1 from pg_replication_slots s join pg_stat_replication w on w.pid = s.active_pid
        where s.slot_name = $1`,
      [READER_SLOT],
    );
    return rows.length > 0;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function invalidatorAssigned(region: RegionEndpoints): Promise<boolean> {
  try {
    const res = await fetch(`http://${region.redis.host}:${region.metrics.invalidator}/healthz`, {
      signal: AbortSignal.timeout(2_000),
    });
    const status = (await res.json()) as Partial<InvalidatorStatus>;
    return (status.assigned?.length ?? 0) > 0;
  } catch {
    return false;
  }
}
