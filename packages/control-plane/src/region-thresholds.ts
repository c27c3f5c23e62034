import { ConfigError } from '@fabric/runtime';

/** Where a region stops being healthy; the configuration's "health" object, every field optional. */
export interface HealthThresholds {
  /** Freshness beyond this (seconds) makes the region unhealthy: its caches are that stale. */
  freshnessSeconds: number;
  /** More pending dead letters than this makes the region degraded (0: any). */
  deadLetters: number;
  /** More Kafka lag (events, summed over partitions) than this makes the region degraded. */
  kafkaLag: number;
  /**
   * A reader whose publisher has had a batch unacknowledged longer than this (seconds)
   * makes the region unhealthy: it retries forever, and meanwhile nothing new is published.
   */
  publisherRetryingSeconds: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  freshnessSeconds: 30,
  deadLetters: 0,
  kafkaLag: 10_000,
  publisherRetryingSeconds: 30,
};

export const HEALTH_THRESHOLDS_HELP = `    "health": {                        (optional: when a region stops being healthy)
      "freshnessSeconds": ${DEFAULT_HEALTH_THRESHOLDS.freshnessSeconds},           (unhealthy above; default ${DEFAULT_HEALTH_THRESHOLDS.freshnessSeconds})
      "deadLetters": ${DEFAULT_HEALTH_THRESHOLDS.deadLetters},                 (pending dead letters, degraded above; default ${DEFAULT_HEALTH_THRESHOLDS.deadLetters})
      "kafkaLag": ${DEFAULT_HEALTH_THRESHOLDS.kafkaLag},                (events, degraded above; default ${DEFAULT_HEALTH_THRESHOLDS.kafkaLag})
      "publisherRetryingSeconds": ${DEFAULT_HEALTH_THRESHOLDS.publisherRetryingSeconds}    (a reader's unacknowledged batch, unhealthy above; default ${DEFAULT_HEALTH_THRESHOLDS.publisherRetryingSeconds})
    },`;

const LIMITS: Record<keyof HealthThresholds, { min: number; max: number }> = {
  freshnessSeconds: { min: 1, max: 86_400 },
  deadLetters: { min: 0, max: 1_000_000_000 },
  kafkaLag: { min: 0, max: 1_000_000_000_000 },
  publisherRetryingSeconds: { min: 1, max: 86_400 },
};

/** Validates the configuration's "health" object once, at start-up; a bad field is named with its limits. */
export function parseHealthThresholds(at: string, raw: unknown): HealthThresholds {
  if (raw === undefined) return { ...DEFAULT_HEALTH_THRESHOLDS };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(at, 'must be an object');
  const given = raw as Record<string, unknown>;
  const unknown = Object.keys(given).filter((k) => !(k in LIMITS));
  if (unknown.length > 0)
    throw new ConfigError(`${at}.${unknown[0]}`, `is not a threshold; known: ${Object.keys(LIMITS).join(', ')}`);
  const out = { ...DEFAULT_HEALTH_THRESHOLDS };
  for (const key of Object.keys(LIMITS) as Array<keyof HealthThresholds>) {
    const value = given[key];
    if (value === undefined) continue;
    const { min, max } = LIMITS[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
      throw new ConfigError(`${at}.${key}`, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    out[key] = value;
  }
  return out;
}
