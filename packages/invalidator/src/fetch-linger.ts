/**
 * How long to hold the next fetch after a batch, so that it finds more than a handful of
 * events. kafkajs fetches again as soon as every batch of a fetch is processed, and the
 * broker answers a fetch at once when anything is there: at a steady 1,000 changes/s that
 * is a fetch, a Redis round trip and a bus message per few events, and those per-round
 * costs (the broker's as much as ours) were most of what a change cost. Holding the next
 * fetch until `lingerMs` after this batch arrived makes a round carry what came meanwhile.
 *
 * Only after a small batch: a batch of `maxBatch` or more means a backlog, which is
 * drained at full speed. An isolated event is not delayed at all (the broker answers the
 * fetch that waits for it the moment it lands); an event of a steady stream waits at most
 * `lingerMs`, half of it on average.
 */
export function fetchLingerMs(batchSize: number, maxBatch: number, elapsedMs: number, lingerMs: number): number {
  if (lingerMs <= 0 || batchSize >= maxBatch) return 0;
  return Math.max(0, lingerMs - elapsedMs);
}
