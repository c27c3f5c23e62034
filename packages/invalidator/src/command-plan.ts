import { type InvalidationEvent, Operation, timestampMs } from '@fabric/proto';
import { DEFAULT_FILL_TOMBSTONE_MS, leaseKey, staleKey, tagKey } from '@fabric/sdk';
import type { ApplyTally } from './apply-tally.js';
import type { ApplyStage } from './errors.js';
import { revokeLeasesCommand, tombstoneLeases } from './lease-revoke.js';
import { groupBySlot } from './slot.js';
import { expandTagPage } from './tag-script.js';
import { bumpVersions } from './version-script.js';

/**
 * Heartbeat events carry no keys, but they must still reach Redis: freshness counts a
 * heartbeat as applied, and a heartbeat that "applied" while Redis was down would report a
 * region as fresh while its invalidations were stuck. Holds the newest primary commit time
 * (ms) written by any partition.
 */
export const HEARTBEAT_KEY = 'fabric:heartbeat';

/** --expand-page's default: SSCAN COUNT per tag page. */
export const DEFAULT_EXPAND_PAGE = 500;

/** One command for one slot and the events that asked for it, to blame them if it fails. */
export interface Command {
  slot: number;
  stage: ApplyStage;
  args: [name: 'unlink' | 'set' | 'evalsha', ...keysAndValues: string[]];
  events: number[];
  count: 'keysUnlinked' | 'leasesRevoked' | 'staleDropped' | 'versionsBumped' | 'heartbeats' | 'tagPage';
  /** Version bumps: the events that named each key, in the script's KEYS order (a key's error blames only them). */
  perKey?: number[][];
  /** A tag's first page: the tag, to go on paging from the cursor it answers. */
  tag?: string;
}

/** What the tag page script answers: next cursor, values, leases, members seen, stale copies. */
export type TagPageReply = [next: string, values: number, leases: number, seen: number, stale: number];

export interface PlanInput {
  events: readonly InvalidationEvent[];
  /** Keys to unlink per event index (see ApplyTally.pending); events absent here are skipped. */
  keysByEvent: ReadonlyMap<number, ReadonlySet<string>>;
  /**
   * Tags whose first page goes in the pipeline, ahead of everything else, with the events
   * that name them (see tagsToExpand): a standalone server, where one script step deletes
   * a page. Omitted on a cluster, whose tags are expanded by the client before the plan.
   */
  tags?: ReadonlyMap<string, readonly number[]>;
  /** SSCAN COUNT of those first pages. */
  tagPageSize?: number;
  /** The slot commands are grouped under; one constant slot on a standalone server. */
  slotOf: (key: string) => number;
  /** Lifetime every bump gives a version key (see version-script.ts). */
  versionTtlMs: number;
  /** > 0: leases are overwritten by a tombstone this long instead of deleted (lease-revoke.ts). */
  fillTombstoneMs?: number;
  now?: () => number;
}

/**
 * The first page of each inlined tag (the script deletes its members, their leases and
 * stale copies), then per slot: the leases revoked first, then one UNLINK for the values
 * and one for their stale copies (a key and its companions share a slot, see the SDK's
 * layout); one version script for the slot's version keys; one SET per heartbeat. Leases
 * go first: a fill landing between a value's UNLINK and its lease's would write a value
 * nothing deletes; landing after the revocation it is refused, and before it, its value
 * is deleted by the UNLINK that follows. A standalone batch is then one pipeline, one
 * round trip, whatever it holds; only a tag with more than a page left costs more.
 */
export function planCommands({
  events,
  keysByEvent,
  slotOf,
  versionTtlMs,
  fillTombstoneMs = 0,
  tags,
  tagPageSize = DEFAULT_EXPAND_PAGE,
  now = Date.now,
}: PlanInput): Command[] {
  // Per slot, its keys and the events naming them, in one pass (a backlog's chunk names 1,500 keys).
  const bySlot = new Map<number, { keys: Set<string>; events: Set<number> }>();
  for (const [index, keys] of keysByEvent)
    for (const key of keys) {
      const slot = slotOf(key);
      let group = bySlot.get(slot);
      if (!group) {
        group = { keys: new Set(), events: new Set() };
        bySlot.set(slot, group);
      }
      group.keys.add(key);
      group.events.add(index);
    }
  const commands: Command[] = [];
  for (const [tag, asking] of tags ?? []) {
    const set = tagKey(tag);
    commands.push({
      slot: slotOf(set),
      stage: 'tag',
      args: expandTagPage.command([set], ['0', String(tagPageSize), String(fillTombstoneMs)]),
      events: [...asking],
      count: 'tagPage',
      tag,
    });
  }
  for (const [slot, group] of bySlot) {
    const keys = [...group.keys];
    const blamed = [...group.events];
    commands.push({
      slot,
      stage: 'unlink',
      args: revokeLeasesCommand(keys.map(leaseKey), fillTombstoneMs),
      events: blamed,
      count: 'leasesRevoked',
    });
    commands.push({ slot, stage: 'unlink', args: ['unlink', ...keys], events: blamed, count: 'keysUnlinked' });
    commands.push({
      slot,
      stage: 'unlink',
      args: ['unlink', ...keys.map(staleKey)],
      events: blamed,
      count: 'staleDropped',
    });
  }
  const versions: Array<{ key: string; index: number }> = [];
  for (const index of keysByEvent.keys()) for (const key of events[index]!.versions) versions.push({ key, index });
  for (const [slot, group] of groupBySlot(versions, (v) => v.key, slotOf)) {
    const byKey = new Map<string, number[]>();
    for (const { key, index } of group) {
      const asking = byKey.get(key);
      if (!asking) byKey.set(key, [index]);
      else if (asking[asking.length - 1] !== index) asking.push(index);
    }
    commands.push({
      slot,
      stage: 'incr',
      args: bumpVersions.command([...byKey.keys()], [String(versionTtlMs)]),
      events: [...new Set(group.map((v) => v.index))],
      count: 'versionsBumped',
      perKey: [...byKey.values()],
    });
  }
  const heartbeatSlot = slotOf(HEARTBEAT_KEY);
  events.forEach((event, index) => {
    if (event.operation !== Operation.HEARTBEAT) return;
    const at = event.primaryCommitTime ? timestampMs(event.primaryCommitTime) : now();
    commands.push({
      slot: heartbeatSlot,
      stage: 'heartbeat',
      args: ['set', HEARTBEAT_KEY, String(at)],
      events: [index],
      count: 'heartbeats',
    });
  });
  return commands;
}

/**
 * Each tag named in a batch, with the events that name it. One expansion serves them all:
 * it runs after every one of their commits is in hand, so it deletes every member any of
 * them needs gone, and a fill that joins the tag after it started loads after those commits.
 * The demo rules name one team tag per users row: a batch of 500 changes from 50 teams
 * costs 50 expansions instead of 500.
 */
export function tagsToExpand(events: readonly InvalidationEvent[]): Map<string, number[]> {
  const byTag = new Map<string, number[]>();
  events.forEach((event, index) => {
    if (event.operation === Operation.HEARTBEAT) return;
    for (const tag of event.tags) {
      const asking = byTag.get(tag);
      if (asking) {
        if (asking[asking.length - 1] !== index) asking.push(index);
      } else byTag.set(tag, [index]);
    }
  });
  return byTag;
}

/**
 * The commands a batch costs a standalone Redis whose tags hold no members (one page each),
 * in the order the applier sends them: the bench's physical-limit loop pipelines exactly
 * these, so the limit and the invalidator never disagree on the mix.
 */
export function batchCommandMix(
  events: readonly InvalidationEvent[],
  { versionTtlMs, fillTombstoneMs = DEFAULT_FILL_TOMBSTONE_MS }: { versionTtlMs: number; fillTombstoneMs?: number },
): string[][] {
  const keysByEvent = new Map<number, Set<string>>();
  events.forEach((event, index) => {
    if (event.operation !== Operation.HEARTBEAT) keysByEvent.set(index, new Set(event.keys));
  });
  const tags = tagsToExpand(events);
  return planCommands({ events, keysByEvent, slotOf: () => 0, versionTtlMs, fillTombstoneMs, tags }).map((c) => c.args);
}

/** The scripts the planned pipelines call by SHA: loaded again on NOSCRIPT, and first by the bench's limit loop. */
export const BATCH_SCRIPTS = [expandTagPage, bumpVersions, tombstoneLeases] as const;

/** Counts one answered tag page into the tally; returns the cursor to go on from ('0': the tag is done). */
export function countTagPage(tally: ApplyTally, [next, values, leases, , stale]: TagPageReply): string {
  tally.add('keysUnlinked', values);
  tally.add('leasesRevoked', leases);
  tally.add('staleDropped', stale);
  tally.add('pagesScanned');
  return next;
}

/**
 * Adds what a successful command did to the tally. A version script answers per key: a
 * key's error fails the events that named it (the others are bumped). A tag page is
 * counted by the applier, which also goes on paging.
 */
export function countReply(tally: ApplyTally, command: Command, reply: unknown): void {
  if (command.count === 'versionsBumped') {
    const replies = Array.isArray(reply) ? reply : [];
    command.perKey?.forEach((asking, i) => {
      const r: unknown = replies[i];
      if (r instanceof Error) for (const index of asking) tally.fail(index, command.stage, r);
      else if (r === undefined)
        for (const index of asking) tally.fail(index, command.stage, new Error('no reply for the version key'));
      else tally.add('versionsBumped');
    });
  } else if (command.count === 'heartbeats') {
    tally.add(command.count);
  } else if (command.count !== 'tagPage') {
    tally.add(command.count, Number(reply));
  }
}
