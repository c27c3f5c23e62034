import { finite, objectOf, text, time } from './json-fields.js';

/*
 * Continuity lives in the region's own Redis, beside the cache it protects. Losing it can
 * never hide a gap: a Redis that lost the record lost the cached entries with it, so
 * nothing it holds can be stale. A record kept anywhere else (a Kafka topic, a file) could
 * be wiped together with the slot while the cache survives, and a lost slot would then
 * look like a first start.
 */

/**
 * HASH written by the region's CDC reader: where the WAL it streams is known to continue
 * from. Named by the region's topic, which reader and invalidator share: a Redis serving
 * more than one stream (a second database, a test) keeps one record per stream.
 */
export function continuityKey(topic: string): string {
  return `fabric:continuity:{${topic}}`;
}
/** HASH written by the region's invalidator: the newest resync of the topic and how far its recovery got. */
export function resyncKey(topic: string): string {
  return `fabric:resync:{${topic}}`;
}
/** Prefix of a STRING per finished resync id, so a late copy of one is not run again. */
export const RESYNC_DONE_PREFIX = 'fabric:resync:done:';
/** HASH partition → next offset the invalidator applied up to, kept beside the group's commits. */
export const APPLIED_OFFSETS_KEY = 'fabric:applied-offsets';

export const RESYNC_REASONS = [
  'slot-recreated',
  'slot-invalidated',
  'system-identifier-changed',
  'timeline-changed',
  'offset-out-of-range',
  'topic-recreated',
  'operator',
] as const;
export type ResyncReason = (typeof RESYNC_REASONS)[number];

export function isResyncReason(value: string): value is ResyncReason {
  return (RESYNC_REASONS as readonly string[]).includes(value);
}

/** What every table's recovery action adds up to; literal names, patterns with a literal prefix. */
export interface RecoveryAction {
  keys: string[];
  tags: string[];
  versions: string[];
  patterns: string[];
}

/** The reader's record of the WAL it streams, checked at every start. */
export interface ContinuityRecord {
  /** pg_control_system().system_identifier of the region's database. */
  systemId: string;
  timeline: number;
  slot: string;
  /** Where the slot started (its consistent point when the reader created it, else when first recorded). */
  slotStart: string;
  /** Written before the slot is confirmed, so the slot never confirms past it. */
  confirmedLsn: string;
  updatedAt: string;
  /** The region's recovery action, from the key rules the reader runs with. */
  recovery?: RecoveryAction;
}

/** The fields of the continuity HASH (Redis holds strings only). */
export function continuityFields(record: ContinuityRecord): Record<string, string> {
  return {
    systemId: record.systemId,
    timeline: String(record.timeline),
    slot: record.slot,
    slotStart: record.slotStart,
    confirmedLsn: record.confirmedLsn,
    updatedAt: record.updatedAt,
    ...(record.recovery ? { recovery: JSON.stringify(record.recovery) } : {}),
  };
}

/** The record read back from its HASH; undefined when there is none or it is not whole. */
export function parseContinuityRecord(hash: Record<string, string>): ContinuityRecord | undefined {
  const timeline = Number(hash.timeline);
  if (!hash.systemId || !hash.slot || !hash.slotStart || !hash.confirmedLsn || !Number.isInteger(timeline))
    return undefined;
  return {
    systemId: hash.systemId,
    timeline,
    slot: hash.slot,
    slotStart: hash.slotStart,
    confirmedLsn: hash.confirmedLsn,
    updatedAt: hash.updatedAt ?? '',
    recovery: parseRecoveryAction(hash.recovery),
  };
}

export function parseRecoveryAction(json: string | undefined): RecoveryAction | undefined {
  if (!json) return undefined;
  try {
    const raw = objectOf(JSON.parse(json));
    const list = (v: unknown) =>
      Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];
    return { keys: list(raw.keys), tags: list(raw.tags), versions: list(raw.versions), patterns: list(raw.patterns) };
  } catch {
    return undefined;
  }
}

/** A region's continuity as the invalidator and the control plane report it. */
export interface ContinuityState {
  /** ok: no resync under way; resyncing: recovery running, the region is not fresh meanwhile. */
  state: 'ok' | 'resyncing';
  /** The newest resync, if there ever was one. */
  resyncId?: string;
  reason?: string;
  detail?: string;
  startedAt?: string;
  finishedAt?: string;
  keysDropped?: number;
}

/** Tolerant reader of a ContinuityState in a status body: what is missing or malformed stays undefined. */
export function parseContinuityState(body: unknown): ContinuityState | undefined {
  const raw = objectOf(body);
  if (raw.state !== 'ok' && raw.state !== 'resyncing') return undefined;
  return {
    state: raw.state,
    resyncId: text(raw.resyncId),
    reason: text(raw.reason),
    detail: text(raw.detail),
    startedAt: time(raw.startedAt)?.toISOString(),
    finishedAt: time(raw.finishedAt)?.toISOString(),
    keysDropped: finite(raw.keysDropped),
  };
}
