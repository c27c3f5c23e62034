import { randomUUID } from 'node:crypto';
import { create, InvalidationEventSchema, type InvalidationService, toBinary } from '@fabric/proto';
import type { Logger } from 'pino';
import type { ImplOf } from './grpc-service.js';
import { manualEvents, planInvalidation } from './invalidation-request.js';
import type { ControlPlaneMetrics } from './metrics.js';
import type { RegionConnections } from './region-connections.js';
import type { RegionDirectory } from './regions.js';
import { RpcError } from './rpc-error.js';

export function invalidationHandlers(deps: {
  regions: RegionDirectory;
  connections: RegionConnections;
  metrics: ControlPlaneMetrics;
  logger: Logger;
}): ImplOf<typeof InvalidationService> {
  const { regions, connections, metrics, logger } = deps;
  return {
    async invalidate(req, ctx) {
      const plan = planInvalidation(req, regions);
      const requestId = randomUUID();
      const now = new Date();
      // Regions are independent (one may be cut off); each gets its events or an error.
      const results = await Promise.allSettled(
        plan.regions.map(async (region) => {
          const events = manualEvents(plan, region.name, requestId, now);
          await connections.get(region.name).kafka.publish(
            region.topic,
            events.map((e) => ({
              key: e.key,
              value: toBinary(InvalidationEventSchema, create(InvalidationEventSchema, e.event)),
            })),
          );
          for (const t of plan.targets) metrics.invalidationEvents.inc({ region: region.name, kind: t.kind });
          return { region: region.name, topic: region.topic, eventIds: events.map((e) => e.event.id!) };
        }),
      );
      const published = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      logger.info(
        {
          requestId,
          by: ctx.principal?.name,
          regions: published.map((p) => p.region),
          targets: plan.targets.length,
          force: req.force,
        },
        'manual invalidation published',
      );
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [`${plan.regions[i]!.name}: ${(r.reason as Error).message}`] : [],
      );
      if (failed.length > 0) {
        logger.warn({ requestId, by: ctx.principal?.name, failed }, 'manual invalidation not published everywhere');
        // Repeating the whole request is safe: invalidating a key twice changes nothing.
        const done = published.length
          ? `; published to ${published.map((p) => p.region).join(', ')} (request ${requestId})`
          : '';
        throw RpcError.unavailable(`publishing failed in ${failed.join('; ')}${done}`);
      }
      return { requestId, regions: published };
    },
  };
}
