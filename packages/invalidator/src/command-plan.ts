import { type InvalidationEvent, Operation, timestampMs } from '@fabric/proto';
import { DEFAULT_FILL_TOMBSTONE_MS, leaseKey, staleKey, tagKey } from '@fabric/sdk';
import type { ApplyTally } from './apply-tally.js';
import type { ApplyStage } from './errors.js';
import { revokeLeasesCommand, tombstoneLeases } from './lease-revoke.js';
import { groupBySlot } from './slot.js';
import { expandTagPage } from './tag-script.js';
import { bumpVersion } from './version-script.js';

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
  args: [name: 'unlink' | 'incr' | 'set' | 'evalsha', ...keysAndValues: string[]];
  events: number[];
  count: 'keysUnlinked' | 'leasesRevoked' | 'staleDropped' | 'versionsBumped' | 'heartbeats';
}

export interface PlanInput {
  events: readonly InvalidationEvent[];
  /** Keys to unlink per event index (see ApplyTally.pending); events absent here are skipped. */
  keysByEvent: ReadonlyMap<number, ReadonlySet<string>>;
  /** The slot commands are grouped under; one constant slot on a standalone server. */
  slotOf: (key: string) => number;
  /** Lifetime every bump gives a version key (see version-script.ts). */
  versionTtlMs: number;
  /** > 0: leases are overwritten by a tombstone this long instead of deleted (lease-revoke.ts). */
  fillTombstoneMs?: number;
  now?: () => number;
}

/**
 * Per slot: the leases revoked first, then one UNLINK for the values and one for their stale
 * copies (a key and its companions share a slot, see the SDK's layout); one version bump per
 * version key; one SET per heartbeat. Leases go first: a fill landing between a value's
 * UNLINK and its lease's would write a value nothing deletes; landing after the revocation
 * it is refused, and before it, its value is deleted by the UNLINK that follows.
 */
export function planCommands({
  events,
  keysByEvent,
  slotOf,
  versionTtlMs,
  fillTombstoneMs = 0,
  now = Date.now,
}: PlanInput): Command[] {
  const entries: Array<{ key: string; index: number }> = [];
  for (const [index, keys] of keysByEvent) for (const key of keys) entries.push({ key, index });
  const commands: Command[] = [];
  for (const [slot, group] of groupBySlot(entries, (e) => e.key, slotOf)) {
    const keys = [...new Set(group.map((e) => e.key))];
    const blamed = [...new Set(group.map((e) => e.index))];
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
  for (const index of keysByEvent.keys()) {
    for (const key of events[index]!.versions)
      commands.push({
        slot: slotOf(key),
        stage: 'incr',
        args: bumpVersion.command([key], [String(versionTtlMs)]),
        events: [index],
        count: 'versionsBumped',
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
  const tags = [...tagsToExpand(events).keys()].map((tag) =>
    expandTagPage.command([tagKey(tag)], ['0', String(DEFAULT_EXPAND_PAGE), String(fillTombstoneMs)]),
  );
  const planned = planCommands({ events, keysByEvent, slotOf: () => 0, versionTtlMs, fillTombstoneMs });
  return [...tags, ...planned.map((c) => c.args)];
}

/** The scripts batchCommandMix calls by SHA: loaded first, the limit loop never meets NOSCRIPT. */
export const BATCH_SCRIPTS = [expandTagPage, bumpVersion, tombstoneLeases] as const;

/** Adds what a successful command did to the tally. */
export function countReply(tally: ApplyTally, command: Command, reply: unknown): void {
  if (command.count === 'versionsBumped' || command.count === 'heartbeats') {
    tally.add(command.count);
  } else {
    tally.add(command.count, Number(reply));
  }
}
