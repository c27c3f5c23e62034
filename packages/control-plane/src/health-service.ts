import { EventEmitter, once } from 'node:events';
import { healthV1 } from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import type { ImplOf } from './grpc-service.js';
import { RpcError } from './rpc-error.js';

export const ServingStatus = healthV1.HealthCheckResponse_ServingStatus;
export type ServingStatus = healthV1.HealthCheckResponse_ServingStatus;

/**
 * Serving status of the server ("") and of each service, as grpc.health.v1 reports it.
 * Everything turns NOT_SERVING at shutdown before connections close, so load balancers
 * stop sending calls first.
 */
export class HealthRegistry {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly changes = new EventEmitter();

  constructor(services: string[]) {
    for (const name of ['', ...services]) this.statuses.set(name, ServingStatus.SERVING);
    this.changes.setMaxListeners(0);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  setAll(value: ServingStatus): void {
    for (const name of this.statuses.keys()) this.statuses.set(name, value);
    this.changes.emit('change');
  }

  /** Resolves on the next change, or rejects when `signal` aborts. */
  async nextChange(signal: AbortSignal): Promise<void> {
    await once(this.changes, 'change', { signal });
  }
}

export function healthHandlers(registry: HealthRegistry): ImplOf<typeof healthV1.Health> {
  return {
    async check(req) {
      const current = registry.get(req.service);
      if (current === undefined)
        throw new RpcError(status.NOT_FOUND, `service: unknown service ${JSON.stringify(req.service)}`);
      return { status: current };
    },

    async watch(req, ctx, send) {
      let last: ServingStatus | undefined;
      while (!ctx.signal.aborted) {
        const current = registry.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (current !== last) await send({ status: current });
        last = current;
        try {
          await registry.nextChange(ctx.signal);
        } catch {
          break;
        }
      }
      if (ctx.signal.reason instanceof RpcError && ctx.signal.reason.code !== status.CANCELLED) throw ctx.signal.reason;
    },
  };
}
