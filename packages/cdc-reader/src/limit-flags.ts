import { type ByteLimits, byteLimitsProblem, DEFAULT_BYTE_LIMITS } from '@fabric/contracts';
import { ConfigError, integerFlag } from '@fabric/runtime';

/**
 * What the reader's queue may hold before it stops reading the WAL. The chart gives the
 * reader 256 MiB; the process itself (heap, decoder caches, a batch in flight being
 * encoded) takes well under 128 MiB, so 64 MiB of queued messages leaves room.
 */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

export interface ReaderLimits {
  limits: ByteLimits;
  maxPendingBytes: number;
}

export const LIMIT_OPTIONS = {
  'max-batch-bytes': { type: 'string' },
  'max-event-bytes': { type: 'string' },
  'max-key-bytes': { type: 'string' },
  'max-dead-letter-bytes': { type: 'string' },
  'max-pending-bytes': { type: 'string' },
} as const;

export const LIMITS_HELP = `  --max-batch-bytes N    Bytes per Kafka request, all partitions (default ${DEFAULT_BYTE_LIMITS.batchBytes});
                         below the brokers' message.max.bytes
  --max-event-bytes N    An event above this is split into parts of the same change
                         (default ${DEFAULT_BYTE_LIMITS.eventBytes})
  --max-key-bytes N      A key, tag, version key or pattern above this cannot be split and
                         goes to the dead-letter topic (default ${DEFAULT_BYTE_LIMITS.keyBytes})
  --max-dead-letter-bytes N
                         A dead letter above this keeps a reference (table, LSN, primary
                         key) instead of the row (default ${DEFAULT_BYTE_LIMITS.deadLetterBytes})
  --max-pending-bytes N  Decoded but unacknowledged messages held in memory; above it the
                         reader stops reading the WAL until Kafka catches up
                         (default ${DEFAULT_MAX_PENDING_BYTES})
`;

type LimitValues = { [K in keyof typeof LIMIT_OPTIONS]?: string };

const FLAG_OF: Record<keyof ByteLimits, string> = {
  batchBytes: '--max-batch-bytes',
  eventBytes: '--max-event-bytes',
  keyBytes: '--max-key-bytes',
  deadLetterBytes: '--max-dead-letter-bytes',
};

export function parseLimitFlags(values: LimitValues): ReaderLimits {
  const bytes = (flag: keyof LimitValues, fallback: number, min: number) =>
    integerFlag(`--${flag}`, values[flag] ?? String(fallback), min, 1024 * 1024 * 1024);
  const limits: ByteLimits = {
    batchBytes: bytes('max-batch-bytes', DEFAULT_BYTE_LIMITS.batchBytes, 1024),
    eventBytes: bytes('max-event-bytes', DEFAULT_BYTE_LIMITS.eventBytes, 512),
    keyBytes: bytes('max-key-bytes', DEFAULT_BYTE_LIMITS.keyBytes, 64),
    deadLetterBytes: bytes('max-dead-letter-bytes', DEFAULT_BYTE_LIMITS.deadLetterBytes, 1024),
  };
  const problem = byteLimitsProblem(limits);
  if (problem) {
    const field = (Object.keys(FLAG_OF) as Array<keyof ByteLimits>).find((f) => problem.startsWith(f)) ?? 'batchBytes';
    const named = (Object.entries(FLAG_OF) as Array<[keyof ByteLimits, string]>).reduce(
      (text, [f, flag]) => text.replaceAll(f, flag),
      problem,
    );
    throw new ConfigError(FLAG_OF[field], named.slice(FLAG_OF[field].length + 1));
  }
  const maxPendingBytes = bytes('max-pending-bytes', DEFAULT_MAX_PENDING_BYTES, limits.batchBytes);
  return { limits, maxPendingBytes };
}
