import { resyncEvent } from '@fabric/contracts';
import { type ContinuityService, InvalidationEventSchema, toBinary } from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ImplOf } from './grpc-service.js';
import type { ControlPlaneMetrics } from './metrics.js';
import type { RegionConnections } from './region-connections.js';
import { isUnknownTopic, type RegionKafka } from './region-kafka.js';
import type { RegionDirectory } from './regions.js';
import { operatorResync, planResync } from './resync-request.js';
import { RpcError } from './rpc-error.js';

/** Kafka key of every resync copy, as the reader keys its own (see eventKey). */
const RESYNC_KEY = 'resync';

export function continuityHandlers(deps: {
  regions: RegionDirectory;
  connections: RegionConnections;
  metrics: ControlPlaneMetrics;
  logger: Logger;
}): ImplOf<typeof ContinuityService> {
  const { regions, connections, metrics, logger } = deps;
  return {
    async resync(req, ctx) {
      const plan = planResync(req, regions);
      const { name, topic } = plan.region;
      const kafka = connections.get(name).kafka;
      const now = new Date();
      const { id, detail } = operatorResync(plan, ctx.principal?.name, now);
      const partitions = await topicPartitions(kafka, name, topic);
      // One copy per partition, so the recovery is ordered after everything already in each
      // and no partition's newer events apply before it; the invalidator runs it once per id.
      const value = toBinary(
        InvalidationEventSchema,
        resyncEvent({ region: name, id, reason: 'operator', detail, copies: partitions.length, now }),
      );
      try {
        await kafka.publish(
          topic,
          partitions.map((partition) => ({ key: RESYNC_KEY, partition, value })),
        );
      } catch (err) {
        logger.warn({ err, region: name, resync: id, by: ctx.principal?.name }, 'resync not published');
        // Some copies may be out; the first one to arrive starts the recovery. Asking again
        // publishes a new id, which at worst runs the recovery once more.
        throw RpcError.unavailable(`${name}: publishing resync ${id} to ${topic} failed: ${(err as Error).message}`);
      }
      metrics.resyncsRequested.inc({ region: name });
      logger.info(
        { region: name, resync: id, by: ctx.principal?.name, reason: plan.reason, copies: partitions.length },
        'operator resync published',
      );
      return { region: name, topic, resyncId: id, copies: partitions.length };
    },
  };
}

/** A topic that is missing or has no partitions will not appear by retrying: FAILED_PRECONDITION. */
async function topicPartitions(
  kafka: Pick<RegionKafka, 'partitions'>,
  region: string,
  topic: string,
): Promise<number[]> {
  let found: number[];
  try {
    found = await kafka.partitions(topic);
  } catch (err) {
    if (isUnknownTopic(err)) throw new RpcError(status.FAILED_PRECONDITION, `${region}: topic ${topic} does not exist`);
    throw RpcError.unavailable(`${region}: cannot read the partitions of ${topic}: ${(err as Error).message}`);
  }
  if (found.length === 0) throw new RpcError(status.FAILED_PRECONDITION, `${region}: topic ${topic} has no partitions`);
  return found;
}
