import { OUTBOX_TABLE } from '@fabric/contracts';
import type { DeadLetter } from '@fabric/proto';

/** Why a dead letter holds nothing a replay could publish. */
export type Unreplayable =
  | { kind: 'empty-record' }
  | { kind: 'not-a-dead-letter'; error: string }
  | { kind: 'no-original'; deadLetter: DeadLetter }
  | { kind: 'undecodable-original'; deadLetter: DeadLetter; error: string }
  | { kind: 'not-an-event'; deadLetter: DeadLetter; problem: string };

/**
 * What is wrong and what the operator does about it, per case. None of these has an event
 * to publish again, so none says "replay": the way out is to fix what produced it, make
 * up for the lost invalidation where one was lost, and resolve it (`fabric dlq resolve`),
 * which takes it out of the DLQ depth.
 */
export function notReplayableReason(u: Unreplayable): string {
  const resolve = 'then resolve it';
  switch (u.kind) {
    case 'empty-record':
      return `empty DLQ record: nothing to replay; find what wrote it to the DLQ topic, ${resolve}`;
    case 'not-a-dead-letter':
      return `not a DeadLetter (${u.error}): not replayable; find what else writes to the DLQ topic, ${resolve}`;
    case 'no-original':
      return `no original event (${u.deadLetter.component || 'unknown component'}): ${noOriginal(u.deadLetter)}, ${resolve}`;
    case 'undecodable-original':
      return `original is not a decodable InvalidationEvent (${u.error}): not replayable; check the producer of ${source(u.deadLetter)}, ${resolve}`;
    case 'not-an-event':
      return `${u.problem}: not replayable; check the producer of ${source(u.deadLetter)}, ${resolve}`;
  }
}

/** A reader-side dead letter: which change failed decides the fix. */
function noOriginal(dl: DeadLetter): string {
  if (dl.component !== 'cdc-reader') return 'fix the cause, invalidate its keys by hand if needed';
  const kind = changeKind(dl.change);
  if (kind === 'relay')
    return 'this region applied the logical message but could not relay it to the others; invalidate its keys there (fabric invalidate)';
  if (kind === 'message' || dl.table === OUTBOX_TABLE)
    return "the application's explicit invalidation was refused; fix what sent it and invalidate its keys by hand (fabric invalidate)";
  if (kind === 'truncate')
    return 'no truncate rule rendered; fix the key rules (later truncates then render), invalidate what the table cached (fabric invalidate --pattern) or resync';
  return 'no key rule could render the change; fix the key rules (later changes then render, this one does not), invalidate its keys by hand (fabric invalidate) or resync';
}

function changeKind(change: string): string {
  try {
    const parsed = JSON.parse(change) as { kind?: unknown } | null;
    return typeof parsed?.kind === 'string' ? parsed.kind : '';
  } catch {
    return '';
  }
}

function source(dl: DeadLetter): string {
  return dl.sourceTopic ? `${dl.sourceTopic}[${dl.sourcePartition}]` : 'the region topic';
}
