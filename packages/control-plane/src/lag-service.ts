import { setTimeout as sleep } from 'node:timers/promises';
import { type LagService, timestampFromDate } from '@fabric/proto';
import type { ImplOf } from './grpc-service.js';
import type { LagSampler, LagSnapshot } from './lag-sampler.js';
import type { RegionDirectory } from './regions.js';
import { RpcError } from './rpc-error.js';

export const DEFAULT_WATCH_INTERVAL_MS = 1_000;
export const MIN_WATCH_INTERVAL_MS = 200;
export const MAX_WATCH_INTERVAL_MS = 60_000;

export function lagHandlers(regions: RegionDirectory, sampler: LagSampler): ImplOf<typeof LagService> {
  const view = (snapshot: LagSnapshot) => ({ regions: snapshot.regions, observedTime: timestampFromDate(snapshot.at) });
  return {
    async getLag(req) {
      return view(await sampler.snapshot(regions.select('region', req.region)));
    },

    async watchLag(req, ctx, send) {
      const chosen = regions.select('region', req.region);
      const interval = watchInterval(req.intervalMs);
      while (!ctx.signal.aborted) {
        await send(view(await sampler.snapshot(chosen)));
        try {
          await sleep(interval, undefined, { signal: ctx.signal });
        } catch {
          break;
        }
      }
      // A shutdown ends the stream with UNAVAILABLE so clients reconnect; a cancel has no one to tell.
      if (ctx.signal.reason instanceof RpcError) throw ctx.signal.reason;
    },
  };
}

export function watchInterval(ms: number): number {
  if (ms === 0) return DEFAULT_WATCH_INTERVAL_MS;
  if (ms < MIN_WATCH_INTERVAL_MS || ms > MAX_WATCH_INTERVAL_MS) {
    throw RpcError.invalidArgument(
      'interval_ms',
      `must be 0 (default ${DEFAULT_WATCH_INTERVAL_MS}) or from ${MIN_WATCH_INTERVAL_MS} to ${MAX_WATCH_INTERVAL_MS}, got ${ms}`,
    );
  }
  return ms;
}
