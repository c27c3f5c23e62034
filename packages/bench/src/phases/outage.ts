// Keys left stale after a Redis outage: not written yet.
import type { BenchContext } from '../context.js';
import type { NotImplemented } from '../phase.js';

export async function outages(_ctx: BenchContext): Promise<NotImplemented> {
  return { notImplemented: true };
}
