import type { ContinuityRecord, ResyncReason } from '@fabric/contracts';
import { lsnToBigInt } from '@fabric/contracts';

/** What the reader finds at start: the database it reads and the slot it reads through. */
export interface ObservedStream {
  systemId: string;
  timeline: number;
  slot: string;
  /** The slot did not exist (or was invalidated and replaced) and was created by this start. */
  slotCreated: boolean;
  /** Why the slot that was there could not be used (it was replaced), when it could not. */
  slotInvalidated?: string;
  /** The slot's confirmed_flush_lsn now. */
  slotConfirmedLsn: string;
}

/** Where timeline `timeline` ended in the current history: its switch point, if the history names it. */
export type TimelineSwitch = (timeline: number) => string | undefined;

export type ContinuityVerdict =
  | { verdict: 'first-start'; detail: string }
  | { verdict: 'continuous'; detail?: string }
  | { verdict: 'gap'; reason: ResyncReason; detail: string };

/**
 * Decides whether the WAL this start reads continues exactly where the region's record
 * says the last confirmed change was. Pure, so every case is unit-tested.
 *
 * The record's confirmed LSN is written before the slot is confirmed, so the slot never
 * confirms past it: a slot whose confirmed position is ahead of the record skipped WAL
 * nobody published, which is what a slot dropped and created again (by anyone) looks like.
 */
export function judgeContinuity(
  record: ContinuityRecord | undefined,
  observed: ObservedStream,
  timelineSwitch: TimelineSwitch,
): ContinuityVerdict {
  if (!record) {
    return {
      verdict: 'first-start',
      detail:
        `no continuity record in the region's Redis: changes before ${observed.slotConfirmedLsn} are not covered ` +
        '(a first start, or a Redis that lost its data, and with it every cached entry)',
    };
  }
  if (record.systemId !== observed.systemId)
    return {
      verdict: 'gap',
      reason: 'system-identifier-changed',
      detail:
        `the database's system identifier is ${observed.systemId}, the record's ${record.systemId}: ` +
        'a rebuilt or restored database, whose WAL does not continue the recorded one',
    };
  if (observed.slotInvalidated)
    return {
      verdict: 'gap',
      reason: 'slot-invalidated',
      detail: `slot ${observed.slot} was invalidated (${observed.slotInvalidated}) and replaced at ${observed.slotConfirmedLsn}; the record was confirmed up to ${record.confirmedLsn}`,
    };
  if (observed.slotCreated || record.slot !== observed.slot)
    return {
      verdict: 'gap',
      reason: 'slot-recreated',
      detail:
        record.slot === observed.slot
          ? `slot ${observed.slot} was missing and was created at ${observed.slotConfirmedLsn}; the record was confirmed up to ${record.confirmedLsn}`
          : `the reader now reads slot ${observed.slot}, the record names ${record.slot}`,
    };
  if (lsnToBigInt(observed.slotConfirmedLsn) > lsnToBigInt(record.confirmedLsn))
    return {
      verdict: 'gap',
      reason: 'slot-recreated',
      detail:
        `slot ${observed.slot} is confirmed up to ${observed.slotConfirmedLsn}, past the record's ${record.confirmedLsn}: ` +
        'it was dropped and created again since the last confirmation',
    };
  if (observed.timeline !== record.timeline) {
    const switchPoint = timelineSwitch(record.timeline);
    if (switchPoint !== undefined && lsnToBigInt(record.confirmedLsn) <= lsnToBigInt(switchPoint))
      return {
        verdict: 'continuous',
        detail:
          `timeline ${record.timeline} → ${observed.timeline}: timeline ${record.timeline} ended at ${switchPoint}, ` +
          `after the record's ${record.confirmedLsn}, so the slot's history continues`,
      };
    return {
      verdict: 'gap',
      reason: 'timeline-changed',
      detail:
        switchPoint === undefined
          ? `timeline ${record.timeline} → ${observed.timeline}, and the history does not show where ${record.timeline} ended`
          : `timeline ${record.timeline} ended at ${switchPoint}, before the record's ${record.confirmedLsn}: changes past it were lost in the switch`,
    };
  }
  return { verdict: 'continuous' };
}

/** Parses a timeline history file ("tli\tswitchpoint\treason" lines) into its switch points. */
export function parseTimelineHistory(content: string): Map<number, string> {
  const points = new Map<number, string>();
  for (const line of content.split('\n')) {
    const m = /^\s*(\d+)\s+([0-9A-Fa-f]+\/[0-9A-Fa-f]+)/.exec(line);
    if (m) points.set(Number(m[1]), m[2]!.toUpperCase());
  }
  return points;
}
