import { UsageError } from './usage.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO 8601 time, or a duration back from now: "90s", "15m", "2h", "7d". */
export function parseTimeArg(flag: string, value: string, now: Date = new Date()): Date {
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const t = new Date(value);
    if (!Number.isNaN(t.getTime())) return t;
  }
  throw new UsageError(
    `${flag}: "${value}" is neither an ISO time (2024-05-01T12:00:00Z) nor a duration back from now (15m, 2h, 7d)`,
  );
}

/** A non-negative integer flag, as a bigint for Kafka offsets. */
export function parseOffsetArg(flag: string, value: string): bigint {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: "${value}" must be a non-negative integer`);
  return BigInt(value);
}
