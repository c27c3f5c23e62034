/**
 * Capped exponential backoff with full jitter: the delay before attempt `attempt`
 * (1-based) is uniform in [0, min(cap, base * 2^(attempt-1))]. Full jitter keeps many
 * workers that failed together from retrying together.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
