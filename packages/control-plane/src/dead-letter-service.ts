import type { MessageInitShape } from '@bufbuild/protobuf';
import { eventKey } from '@fabric/contracts';
import {
  type DeadLetterEntrySchema,
  type DeadLetterService,
  type InvalidationEvent,
  ReplayOutcome,
  ResolveOutcome,
} from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { RegionConfig } from './config.js';
import {
  encodePageToken,
  type ListingPlan,
  MAX_SCANNED_PER_PAGE,
  type PageCursor,
  planListing,
  planReplay,
  planResolve,
  replayRanges,
} from './dead-letter-request.js';
import { DEFAULT_MAX_CONCURRENT_SCANS, ScanSlots } from './dead-letter-scans.js';
import { type DeadLetterView, deadLetterEntry, matchesCriteria, viewDeadLetter } from './dead-letter-view.js';
import type { ImplOf } from './grpc-service.js';
import type { ControlPlaneMetrics } from './metrics.js';
import { deadLetterOffsets } from './probes/kafka.js';
import type { RegionConnection, RegionConnections } from './region-connections.js';
import type { RegionDirectory } from './regions.js';
import type { DeadLetterOffsets } from './replay-ledger.js';
import { decideReplay, ReplayTally } from './replay-tally.js';
import { decideResolve, ResolveTally } from './resolve-tally.js';
import { RpcError } from './rpc-error.js';
import { DEFAULT_LIMITS } from './server-limits.js';
import type { PartitionRange, TopicScanner } from './topic-scan.js';

export interface DeadLetterDeps {
  regions: RegionDirectory;
  connections: RegionConnections;
  metrics: ControlPlaneMetrics;
  logger: Logger;
  /** Shared by listings, replays and resolutions; default DEFAULT_MAX_CONCURRENT_SCANS. */
  scanSlots?: ScanSlots;
  /** The server's largest response; a listing page stays under half of it. */
  maxSendMessageBytes?: number;
}

export function deadLetterHandlers(deps: DeadLetterDeps): ImplOf<typeof DeadLetterService> {
  const { regions, connections, metrics, logger } = deps;
  const slots = deps.scanSlots ?? new ScanSlots(DEFAULT_MAX_CONCURRENT_SCANS);
  const pageBytes = Math.floor((deps.maxSendMessageBytes ?? DEFAULT_LIMITS.maxSendMessageBytes) / 2);
  /**
   * Regions with a replay or resolution running here; a second one would race the first
   * for the same dead letters and the same ledger records.
   */
  const settling = new Map<string, string>();
  const settle = (region: string, what: string): (() => void) => {
    const running = settling.get(region);
    if (running)
      throw new RpcError(status.ABORTED, `a ${running} of ${region} is already running; wait for it to finish`);
    settling.set(region, what);
    return () => {
      settling.delete(region);
    };
  };

  return {
    async listDeadLetters(req, ctx) {
      const plan = planListing(req, regions);
      const release = slots.acquire('ListDeadLetters');
      try {
        // Row data is for those who may act on it; a read token sees where and why.
        const redact = !ctx.principal?.scopes.has('admin');
        const entries: Array<MessageInitShape<typeof DeadLetterEntrySchema>> = [];
        let next: PageCursor | undefined;
        let pending = 0n;
        let reachedCursor = plan.cursor === undefined;
        const budget = { records: MAX_SCANNED_PER_PAGE, bytes: pageBytes };
        for (const region of plan.regions) {
          const connection = connections.get(region.name);
          const dlq = await readDlq(connection);
          pending += connection.ledger.pending(dlq);
          reachedCursor ||= region.name === plan.cursor!.region;
          // Before the cursor's region: listed on earlier pages. Page full: only the count goes on.
          if (reachedCursor && !next)
            next = await fillPage(
              connection,
              dlq,
              plan,
              entries,
              { selection: req.region, redact, budget },
              ctx.signal,
            );
        }
        return { deadLetters: entries, nextPageToken: next ? encodePageToken(next) : '', pending };
      } finally {
        release();
      }
    },

    async resolveDeadLetters(req, ctx, send) {
      const plan = planResolve(req, regions);
      const region = plan.region;
      const by = ctx.principal?.name ?? 'unknown';
      const releaseSlot = slots.acquire('ResolveDeadLetters');
      let releaseRegion: () => void = () => undefined;
      try {
        if (!plan.dryRun) releaseRegion = settle(region.name, 'replay or resolution');
        const connection = connections.get(region.name);
        const ranges = replayRanges(plan, await readDlq(connection));
        const tally = new ResolveTally(
          ranges.reduce((sum, r) => sum + (r.to - r.from), 0n),
          plan.dryRun,
        );
        logger.info(
          {
            region: region.name,
            by,
            note: plan.note,
            dryRun: plan.dryRun,
            ranges: ranges.map((r) => `${r.partition}:${r.from}-${r.to}`),
          },
          'resolving dead letters',
        );
        await send(tally.progress(false));
        for (const range of ranges) {
          await scan(connection, range, ctx.signal, async (records) => {
            const toResolve: DeadLetterView[] = [];
            for (const record of records) {
              tally.scannedOne();
              const view = viewDeadLetter(record);
              if (!matchesCriteria(view, plan.criteria)) continue;
              const decision = decideResolve(connection.ledger.settlement(view.partition, view.offset), plan);
              if (decision.action === 'resolve') toResolve.push(view);
              else tally.note(view, decision.outcome, decision.reason);
            }
            if (toResolve.length > 0) {
              try {
                await connection.ledger.resolve(toResolve, by, plan.note);
              } catch (err) {
                throw RpcError.unavailable(
                  `${region.name}: recording resolutions in ${connection.ledger.topic} failed: ${(err as Error).message}`,
                );
              }
            }
            for (const view of toResolve) tally.note(view, ResolveOutcome.RESOLVED, '');
            const progress = tally.progress(false);
            for (const item of progress.items ?? [])
              metrics.resolutions.inc({
                region: region.name,
                outcome: ResolveOutcome[item.outcome ?? ResolveOutcome.UNSPECIFIED].toLowerCase(),
              });
            await send(progress);
          });
        }
        const final = tally.progress(true);
        logger.info(
          { region: region.name, by, resolved: String(final.resolved), skipped: String(final.skipped) },
          plan.dryRun ? 'resolution dry run done' : 'resolution done',
        );
        await send(final);
      } finally {
        releaseRegion();
        releaseSlot();
      }
    },

    async replayDeadLetters(req, ctx, send) {
      const plan = planReplay(req, regions);
      const region = plan.region;
      const releaseSlot = slots.acquire('ReplayDeadLetters');
      let releaseRegion: () => void = () => undefined;
      try {
        if (!plan.dryRun) releaseRegion = settle(region.name, 'replay or resolution');
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
                settled: connection.ledger.settlement(view.partition, view.offset),
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
        releaseRegion();
        releaseSlot();
      }
    },
  };
}

/**
 * Adds one region's matching dead letters to the page, partition by partition in offset
 * order, from the cursor when it points into this region. Returns where the next page
 * starts once the page is full (at the first matching dead letter that did not fit) or
 * the page's scan budget is spent (at the first record not read).
 */
async function fillPage(
  connection: RegionConnection,
  dlq: DeadLetterOffsets[],
  plan: ListingPlan,
  entries: Array<MessageInitShape<typeof DeadLetterEntrySchema>>,
  page: { selection: string; redact: boolean; budget: { records: number; bytes: number } },
  signal: AbortSignal,
): Promise<PageCursor | undefined> {
  const { selection, redact, budget } = page;
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
          if (budget.records-- <= 0) {
            next = { selection, region: region.name, partition: record.partition, offset: record.offset };
            return false;
          }
          const view = viewDeadLetter(record);
          const settled = connection.ledger.settlement(view.partition, view.offset);
          if (!matchesCriteria(view, plan.criteria) || (plan.pendingOnly && settled)) continue;
          // The record appears twice in an entry, as the dead letter and as its decoded event.
          const size = 2 * (record.value?.length ?? 0) + 256;
          if (entries.length === plan.pageSize || (entries.length > 0 && size > budget.bytes)) {
            next = { selection, region: region.name, partition: view.partition, offset: view.offset };
            return false;
          }
          budget.bytes -= size;
          entries.push(deadLetterEntry(region.name, view, settled, redact));
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
  range: PartitionRange,
  signal: AbortSignal,
  onRecords: Parameters<TopicScanner['scan']>[1],
): Promise<void> {
  try {
    await connection.scanner.scan(range, onRecords, { signal });
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
