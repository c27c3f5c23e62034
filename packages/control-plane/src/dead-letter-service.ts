import type { MessageInitShape } from '@bufbuild/protobuf';
import { eventKey } from '@fabric/contracts';
import {
  type DeadLetterEntrySchema,
  type DeadLetterService,
  type InvalidationEvent,
  ReplayOutcome,
} from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { RegionConfig } from './config.js';
import {
  encodePageToken,
  type ListingPlan,
  type PageCursor,
  planListing,
  planReplay,
  replayRanges,
} from './dead-letter-request.js';
import { type DeadLetterView, deadLetterEntry, matchesCriteria, viewDeadLetter } from './dead-letter-view.js';
import type { ImplOf } from './grpc-service.js';
import type { ControlPlaneMetrics } from './metrics.js';
import { deadLetterOffsets } from './probes/kafka.js';
import type { RegionConnection, RegionConnections } from './region-connections.js';
import type { RegionDirectory } from './regions.js';
import type { DeadLetterOffsets } from './replay-ledger.js';
import { decideReplay, ReplayTally } from './replay-tally.js';
import { RpcError } from './rpc-error.js';
import { scanPartition } from './topic-scan.js';

export interface DeadLetterDeps {
  regions: RegionDirectory;
  connections: RegionConnections;
  metrics: ControlPlaneMetrics;
  logger: Logger;
}

export function deadLetterHandlers(deps: DeadLetterDeps): ImplOf<typeof DeadLetterService> {
  const { regions, connections, metrics, logger } = deps;
  /** Regions with a replay running here; a second one would race the first for the same dead letters. */
  const replaying = new Set<string>();

  return {
    async listDeadLetters(req, ctx) {
      const plan = planListing(req, regions);
      const entries: Array<MessageInitShape<typeof DeadLetterEntrySchema>> = [];
      let next: PageCursor | undefined;
      let pending = 0n;
      let reachedCursor = plan.cursor === undefined;
      for (const region of plan.regions) {
        const connection = connections.get(region.name);
        const dlq = await readDlq(connection);
        pending += connection.ledger.pending(dlq);
        reachedCursor ||= region.name === plan.cursor!.region;
        // Before the cursor's region: listed on earlier pages. Page full: only the count goes on.
        if (reachedCursor && !next) next = await fillPage(connection, dlq, plan, entries, req.region, ctx.signal);
      }
      return { deadLetters: entries, nextPageToken: next ? encodePageToken(next) : '', pending };
    },

    async replayDeadLetters(req, ctx, send) {
      const plan = planReplay(req, regions);
      const region = plan.region;
      if (!plan.dryRun) {
        if (replaying.has(region.name))
          throw new RpcError(status.ABORTED, `a replay of ${region.name} is already running; wait for it to finish`);
        replaying.add(region.name);
      }
      try {
        const connection = connections.get(region.name);
        const ranges = replayRanges(plan, await readDlq(connection));
        const tally = new ReplayTally(
          ranges.reduce((sum, r) => sum + (r.to - r.from), 0n),
          plan.dryRun,
        );
        logger.info(
          {
            region: region.name,
            by: ctx.principal?.name,
            dryRun: plan.dryRun,
            force: plan.force,
            ranges: ranges.map((r) => `${r.partition}:${r.from}-${r.to}`),
          },
          'replaying dead letters',
        );
        await send(tally.progress(false));
        for (const range of ranges) {
          await scan(connection, range, ctx.signal, async (records) => {
            const toPublish: Array<DeadLetterView & { event: InvalidationEvent }> = [];
            for (const record of records) {
              tally.scannedOne();
              const view = viewDeadLetter(record);
              if (!matchesCriteria(view, plan.criteria)) continue;
              const decision = decideReplay(view, {
                replayedBefore: connection.ledger.has(view.partition, view.offset),
                force: plan.force,
                dryRun: plan.dryRun,
              });
              if (decision.action === 'publish') toPublish.push(view as DeadLetterView & { event: InvalidationEvent });
              else tally.note(view, decision.outcome, decision.reason);
            }
            await publishOriginals(connection, region, toPublish, ctx.principal?.name ?? 'unknown');
            for (const view of toPublish) tally.note(view, ReplayOutcome.REPLAYED, '');
            const progress = tally.progress(false);
            countOutcomes(metrics, region.name, progress.items ?? []);
            await send(progress);
          });
        }
        const final = tally.progress(true);
        logger.info(
          {
            region: region.name,
            replayed: String(final.replayed),
            skipped: String(final.skipped),
            notReplayable: String(final.notReplayable),
          },
          'replay done',
        );
        await send(final);
      } finally {
        if (!plan.dryRun) replaying.delete(region.name);
      }
    },
  };
}

/**
 * Adds one region's matching dead letters to the page, partition by partition in offset
 * order, from the cursor when it points into this region. Returns where the next page
 * starts once the page is full: at the first matching dead letter that did not fit.
 */
async function fillPage(
  connection: RegionConnection,
  dlq: DeadLetterOffsets[],
  plan: ListingPlan,
  entries: Array<MessageInitShape<typeof DeadLetterEntrySchema>>,
  selection: string,
  signal: AbortSignal,
): Promise<PageCursor | undefined> {
  const region = connection.config;
  const cursor = plan.cursor?.region === region.name ? plan.cursor : undefined;
  let next: PageCursor | undefined;
  for (const p of dlq) {
    if (next || (cursor && p.partition < cursor.partition)) continue;
    const from = cursor?.partition === p.partition && cursor.offset > p.start ? cursor.offset : p.start;
    await scan(
      connection,
      { topic: region.deadLetterTopic, partition: p.partition, from, to: p.end },
      signal,
      (records) => {
        for (const record of records) {
          const view = viewDeadLetter(record);
          const replayed = connection.ledger.has(view.partition, view.offset);
          if (!matchesCriteria(view, plan.criteria) || (plan.pendingOnly && replayed)) continue;
          if (entries.length === plan.pageSize) {
            next = { selection, region: region.name, partition: view.partition, offset: view.offset };
            return false;
          }
          entries.push(deadLetterEntry(region.name, view, replayed));
        }
        return true;
      },
    );
  }
  return next;
}

/**
 * Publishes originals to the region's invalidation topic, then records them in the
 * ledger. A crash in between republishes them on the next replay, which is harmless:
 * applying an event twice deletes the same keys twice.
 */
async function publishOriginals(
  connection: RegionConnection,
  region: RegionConfig,
  views: Array<DeadLetterView & { event: InvalidationEvent }>,
  by: string,
): Promise<void> {
  if (views.length === 0) return;
  try {
    await connection.kafka.publish(
      region.topic,
      // Keyed as the reader keyed the original, so the replay joins that key's partition.
      views.map((v) => ({ key: eventKey(v.event), value: v.deadLetter!.original })),
    );
    await connection.ledger.record(
      views.map((v) => ({ partition: v.partition, offset: v.offset, eventId: v.event.id })),
      by,
    );
  } catch (err) {
    throw RpcError.unavailable(`${region.name}: publishing to ${region.topic} failed: ${(err as Error).message}`);
  }
}

async function readDlq(connection: RegionConnection): Promise<DeadLetterOffsets[]> {
  try {
    const [offsets] = await Promise.all([
      deadLetterOffsets(connection.kafka, connection.config.deadLetterTopic),
      connection.ledger.refresh(),
    ]);
    return offsets;
  } catch (err) {
    throw RpcError.unavailable(
      `${connection.config.name}: cannot read ${connection.config.deadLetterTopic}: ${(err as Error).message}`,
    );
  }
}

async function scan(
  connection: RegionConnection,
  range: Parameters<typeof scanPartition>[1],
  signal: AbortSignal,
  onRecords: Parameters<typeof scanPartition>[2],
): Promise<void> {
  try {
    await scanPartition(connection.kafka.kafka, range, onRecords, { signal });
  } catch (err) {
    if (err instanceof RpcError) throw err;
    throw RpcError.unavailable(
      `${connection.config.name}: reading ${range.topic}[${range.partition}] failed: ${(err as Error).message}`,
    );
  }
}

function countOutcomes(metrics: ControlPlaneMetrics, region: string, items: Array<{ outcome?: ReplayOutcome }>): void {
  for (const item of items)
    metrics.replays.inc({ region, outcome: ReplayOutcome[item.outcome ?? ReplayOutcome.UNSPECIFIED].toLowerCase() });
}
