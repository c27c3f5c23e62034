/**
 * The per-region invalidation bus: what a region's invalidators tell every SDK instance of
 * the region after they applied a chunk to Redis, so in-process (L1) copies go too, and how
 * far each partition is applied, for read-your-writes.
 *
 * Classic PUBLISH on one channel per region. In Redis Cluster classic pub/sub is broadcast to
 * every node, so one SUBSCRIBE on any node hears every member; sharded SPUBLISH would need a
 * subscription per slot. A message is published only AFTER its events are applied: published
 * before, an instance could fill L1 again from the L2 value not yet deleted.
 *
 * Every member also publishes a message with no invalidations every BUS_HEARTBEAT_MS, so a
 * subscriber that hears nothing for a few periods knows the bus (or its connection) stalled
 * and stops trusting its L1.
 */
import { isLsn } from './lsn.js';

export const busChannel = (region: string): string => `fabric:bus:${region}`;

/** How often each invalidator publishes on the bus even with nothing to say. */
export const BUS_HEARTBEAT_MS = 1_000;

/** Publishers split a message so each stays below this many bytes of JSON. */
export const BUS_MESSAGE_MAX_BYTES = 64 * 1024;

/**
 * The regional Redis hash of applied positions: field "<topic>:<partition>" holds the primary
 * LSN (16 hex digits, so strings compare as numbers, in Lua too) up to which that partition is
 * applied; field "<topic>:partitions" the topic's partition count. Only ever raised.
 */
export const APPLIED_LSNS_KEY = 'fabric:applied-lsns';
export const appliedLsnField = (topic: string, partition: number): string => `${topic}:${partition}`;
export const partitionCountField = (topic: string): string => `${topic}:partitions`;

export interface BusMessage {
  /** Which invalidator published it (for logs; nothing depends on it). */
  member: string;
  /** The regional topic the member consumes; watermarks are per topic. */
  topic: string;
  keys: string[];
  tags: string[];
  versions: string[];
  patterns: string[];
  /** Drop every L1 entry (a resync ran; what it deleted is not listed). */
  flush: boolean;
  /** Partition -> primary LSN ("X/Y") applied up to, for the partitions this message covers. */
  watermarks: Record<string, string>;
  /** Partitions of the topic: a region watermark needs every one of them. */
  partitions: number;
}

export type BusParse = { ok: true; message: BusMessage } | { ok: false; reason: string };

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Never throws: a malformed message is reported, and the subscriber treats it as a flush. */
export function parseBusMessage(text: string): BusParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof raw !== 'object' || raw === null) return { ok: false, reason: 'not an object' };
  const m = raw as Record<string, unknown>;
  for (const field of ['keys', 'tags', 'versions', 'patterns'] as const)
    if (m[field] !== undefined && !strings(m[field])) return { ok: false, reason: `${field} is not a list of strings` };
  const watermarks: Record<string, string> = {};
  if (m.watermarks !== undefined) {
    if (typeof m.watermarks !== 'object' || m.watermarks === null) return { ok: false, reason: 'watermarks' };
    for (const [p, lsn] of Object.entries(m.watermarks)) {
      if (!/^\d+$/.test(p) || typeof lsn !== 'string' || !isLsn(lsn))
        return { ok: false, reason: `watermark ${p}=${String(lsn)}` };
      watermarks[p] = lsn;
    }
  }
  return {
    ok: true,
    message: {
      member: typeof m.member === 'string' ? m.member : '',
      topic: typeof m.topic === 'string' ? m.topic : '',
      keys: (m.keys as string[] | undefined) ?? [],
      tags: (m.tags as string[] | undefined) ?? [],
      versions: (m.versions as string[] | undefined) ?? [],
      patterns: (m.patterns as string[] | undefined) ?? [],
      flush: m.flush === true,
      watermarks,
      partitions: typeof m.partitions === 'number' && Number.isInteger(m.partitions) ? m.partitions : 0,
    },
  };
}

/** The JSON of `message` without empty fields, so a heartbeat is a few dozen bytes. */
export function serializeBusMessage(message: BusMessage): string {
  const out: Record<string, unknown> = { member: message.member, topic: message.topic };
  for (const field of ['keys', 'tags', 'versions', 'patterns'] as const)
    if (message[field].length > 0) out[field] = message[field];
  if (message.flush) out.flush = true;
  if (Object.keys(message.watermarks).length > 0) out.watermarks = message.watermarks;
  out.partitions = message.partitions;
  return JSON.stringify(out);
}
