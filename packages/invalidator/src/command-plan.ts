import { type InvalidationEvent, Operation, timestampMs } from '@fabric/proto';
import { leaseKey } from '@fabric/sdk';
import type { ApplyTally } from './apply-tally.js';
import type { ApplyStage } from './errors.js';
import { groupBySlot } from './slot.js';
import { bumpVersion } from './version-script.js';

/**
 * Heartbeat events carry no keys, but they must still reach Redis: freshness counts a
 * heartbeat as applied, and a heartbeat that "applied" while Redis was down would report a
 * region as fresh while its invalidations were stuck. Holds the newest primary commit time
 * (ms) written by any partition.
 */
export const HEARTBEAT_KEY = 'fabric:heartbeat';

/** One command for one slot and the events that asked for it, to blame them if it fails. */
export interface Command {
  slot: number;
  stage: ApplyStage;
  args: [name: 'unlink' | 'incr' | 'set' | 'evalsha', ...keysAndValues: string[]];
  events: number[];
  count: 'keysUnlinked' | 'leasesRevoked' | 'versionsBumped' | 'heartbeats';
}

export interface PlanInput {
  events: readonly InvalidationEvent[];
  /** Keys to unlink per event index (see ApplyTally.pending); events absent here are skipped. */
  keysByEvent: ReadonlyMap<number, ReadonlySet<string>>;
  /** The slot commands are grouped under; one constant slot on a standalone server. */
  slotOf: (key: string) => number;
  /** Lifetime every bump gives a version key (see version-script.ts). */
  versionTtlMs: number;
  now?: () => number;
}

/**
 * Per slot: one UNLINK for the values, one for their leases (a key and its lease share a
 * slot, see the SDK's layout); one version bump per version key; one SET per heartbeat.
 */
export function planCommands({ events, keysByEvent, slotOf, versionTtlMs, now = Date.now }: PlanInput): Command[] {
  const entries: Array<{ key: string; index: number }> = [];
  for (const [index, keys] of keysByEvent) for (const key of keys) entries.push({ key, index });
  const commands: Command[] = [];
  for (const [slot, group] of groupBySlot(entries, (e) => e.key, slotOf)) {
    const keys = [...new Set(group.map((e) => e.key))];
    const blamed = [...new Set(group.map((e) => e.index))];
    commands.push({ slot, stage: 'unlink', args: ['unlink', ...keys], events: blamed, count: 'keysUnlinked' });
    commands.push({
      slot,
      stage: 'unlink',
      args: ['unlink', ...keys.map(leaseKey)],
      events: blamed,
      count: 'leasesRevoked',
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

/** Adds what a successful command did to the tally. */
export function countReply(tally: ApplyTally, command: Command, reply: unknown): void {
  if (command.count === 'versionsBumped' || command.count === 'heartbeats') {
    tally.add(command.count);
  } else {
    tally.add(command.count, Number(reply));
  }
}
