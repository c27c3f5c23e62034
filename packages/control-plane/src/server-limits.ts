import { ConfigError } from '@fabric/runtime';
import type { ChannelOptions } from '@grpc/grpc-js';
import { DEFAULT_MAX_CONCURRENT_SCANS } from './dead-letter-scans.js';

/** What one client can make the server hold: message sizes, streams per connection, DLQ scans. */
export interface ServerLimits {
  /** Largest request; a larger one is refused with RESOURCE_EXHAUSTED before any handler runs. */
  maxReceiveMessageBytes: number;
  /** Largest response; listings end their page early to stay under half of it. */
  maxSendMessageBytes: number;
  /** Concurrent calls on one HTTP/2 connection (WatchLag streams included). */
  maxConcurrentStreams: number;
  /** Dead-letter listings, replays and resolutions reading DLQs at once, over all clients. */
  maxConcurrentScans: number;
}

/**
 * An Invalidate request at its limit (1000 targets of up to 1024 characters) is about
 * 1 MiB; twice that leaves room without letting a client send the 4 MiB grpc-js takes by
 * default. Responses are bigger (a page of dead letters with their originals).
 */
export const DEFAULT_LIMITS: ServerLimits = {
  maxReceiveMessageBytes: 2 * 1024 * 1024,
  maxSendMessageBytes: 16 * 1024 * 1024,
  maxConcurrentStreams: 100,
  maxConcurrentScans: DEFAULT_MAX_CONCURRENT_SCANS,
};

const RANGES: Record<keyof ServerLimits, [number, number]> = {
  maxReceiveMessageBytes: [64 * 1024, 64 * 1024 * 1024],
  maxSendMessageBytes: [64 * 1024, 256 * 1024 * 1024],
  maxConcurrentStreams: [1, 10_000],
  maxConcurrentScans: [1, 64],
};

/** The "limits" object of the configuration file; every field optional. */
export function parseServerLimits(at: string, raw: unknown): ServerLimits {
  if (raw === undefined) return { ...DEFAULT_LIMITS };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(at, 'must be an object');
  const given = raw as Record<string, unknown>;
  for (const field of Object.keys(given))
    if (!(field in RANGES))
      throw new ConfigError(`${at}.${field}`, `unknown limit; known: ${Object.keys(RANGES).join(', ')}`);
  const limits = { ...DEFAULT_LIMITS };
  for (const [field, [min, max]] of Object.entries(RANGES) as Array<[keyof ServerLimits, [number, number]]>) {
    const value = given[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      throw new ConfigError(`${at}.${field}`, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    limits[field] = value;
  }
  return limits;
}

export function grpcServerOptions(limits: ServerLimits): ChannelOptions {
  return {
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.max_send_message_length': limits.maxSendMessageBytes,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
  };
}
