import {
  eventKey,
  HEARTBEAT_TABLE,
  isLsn,
  MESSAGE_PREFIX,
  OUTBOX_TABLE,
  parseExplicitInvalidation,
} from '@fabric/contracts';
import {
  create,
  DeadLetterSchema,
  type InvalidationEvent,
  InvalidationEventSchema,
  Operation,
  timestampFromDate,
} from '@fabric/proto';
import type { Output } from './outputs.js';
import type { Lsn, PgoutputMessage, Relation } from './pgoutput/index.js';
import { relayOrigin } from './relay.js';
import { toRowChange } from './row-change.js';
import { type KeyRules, type RowChange, renderChange, renderTruncate, type SkipCause } from './rules/index.js';

/** The commit a change belongs to; `index` numbers outputs so event ids are stable on replay. */
export interface CommitContext {
  finalLsn: Lsn;
  /**
   * The primary's commit time; absent for a non-transactional message, which commits
   * nothing: a time the reader made up would count as fresh work in every region.
   */
  commitTime?: Date;
  index: number;
}

/** A change no rule turned into anything, for the skip metric and its once-per-relation warning. */
export interface SkippedChange {
  relation: Relation;
  table: string;
  skip: SkipCause;
  reason: string;
}

type RowMessage = Extract<PgoutputMessage, { tag: 'insert' | 'update' | 'delete' }>;
type TruncateMessage = Extract<PgoutputMessage, { tag: 'truncate' }>;
type LogicalMessage = Extract<PgoutputMessage, { tag: 'message' }>;

const OPERATIONS = { insert: Operation.INSERT, update: Operation.UPDATE, delete: Operation.DELETE } as const;

/**
 * Turns decoded changes into outputs. Pure: no I/O, so every rule of the mapping is
 * unit-tested without a database or a broker.
 */
export class ChangeMapper {
  constructor(
    private readonly rules: KeyRules,
    private readonly region: string,
    /** This region relays logical messages into the outbox: the home region, with logical replicas. */
    private readonly relays: boolean,
    private readonly now: () => Date = () => new Date(),
    private readonly onSkip: (skipped: SkippedChange) => void = () => {},
    /**
     * This region decodes the primary's WAL (the home region, physical standbys), so commit
     * LSNs are primary LSNs; false for a logical replica, whose heartbeats carry them instead.
     */
    private readonly primaryWal = true,
  ) {}

  map(msg: RowMessage | TruncateMessage | LogicalMessage, ctx: CommitContext): Output[] {
    switch (msg.tag) {
      case 'truncate':
        return msg.relations.flatMap((r) => this.mapTruncate(r, ctx));
      case 'message':
        return this.mapMessage(msg, ctx);
      default:
        return this.mapRow(msg, ctx);
    }
  }

  private mapRow(msg: RowMessage, ctx: CommitContext): Output[] {
    const table = qualified(msg.relation);
    const change = toRowChange(msg, table);
    if (table === HEARTBEAT_TABLE) {
      const event = this.event(ctx, table, Operation.HEARTBEAT, {});
      const beatLsn = change.newRow?.primary_lsn;
      if (!this.primaryWal) event.primaryLsn = typeof beatLsn === 'string' && isLsn(beatLsn) ? beatLsn : '';
      return [{ kind: 'heartbeat', event }];
    }
    if (table === OUTBOX_TABLE) return this.mapOutbox(change, ctx);
    const rendered = renderChange(this.rules, change);
    switch (rendered.status) {
      case 'skip':
        this.onSkip({ relation: msg.relation, table, skip: rendered.skip, reason: rendered.reason });
        return [];
      case 'error':
        return [this.deadLetter(ctx, `${table}:dead-letter`, rendered.reason, table, change)];
      case 'partial':
        // What rendered is invalidated now; only the failed templates wait in the DLQ, with
        // the source change, for a fixed rule or REPLICA IDENTITY FULL.
        return [
          published(this.event(ctx, table, OPERATIONS[change.kind], rendered)),
          this.deadLetter(ctx, `${table}:dead-letter`, rendered.reason, table, change),
        ];
      case 'ok':
        return [published(this.event(ctx, table, OPERATIONS[change.kind], rendered))];
    }
  }

  private mapTruncate(relation: Relation, ctx: CommitContext): Output[] {
    const table = qualified(relation);
    const rendered = renderTruncate(this.rules, table);
    if (rendered.status === 'skip') {
      this.onSkip({ relation, table, skip: rendered.skip, reason: rendered.reason });
      return [];
    }
    if (rendered.status === 'error')
      return [this.deadLetter(ctx, table, rendered.reason, table, { kind: 'truncate', table })];
    return [published(this.event(ctx, table, Operation.TRUNCATE, rendered))];
  }

  /**
   * Outbox rows replicate like any row, so every region sees them. A row relayed from a
   * logical message names the region that relayed it, which already invalidated the
   * message directly and skips it; every other region applies it, whichever is home now.
   */
  private mapOutbox(change: RowChange, ctx: CommitContext): Output[] {
    if (change.kind !== 'insert') return [];
    const row = change.newRow ?? {};
    if (row.relayed_from && this.relayedHere(row.relayed_from)) return [];
    return this.explicit(row.payload ?? null, ctx, OUTBOX_TABLE, `${OUTBOX_TABLE}:${row.id ?? ''}`, change);
  }

  private relayedHere(relayedFrom: string): boolean {
    const origin = relayOrigin(relayedFrom);
    return 'region' in origin ? origin.region === this.region : this.relays;
  }

  /**
   * Logical messages travel inside the WAL, so a physical standby decodes them like the
   * primary. Logical subscriptions do not carry them; with logical replicas the home reader
   * both applies them and relays them through the outbox, which does replicate.
   */
  private mapMessage(msg: LogicalMessage, ctx: CommitContext): Output[] {
    if (msg.prefix !== MESSAGE_PREFIX) return [];
    const payload = msg.content.toString('utf8');
    const outputs = this.explicit(payload, ctx, '', `message:${msg.lsn}`, { kind: 'message', lsn: msg.lsn, payload });
    const applied = outputs.find((o) => o.kind === 'event');
    if (!this.relays || !applied) return outputs;
    // The relay writes what the reader understood, re-serialised, never the application's raw text.
    const { keys, tags, versions } = applied.event;
    return [...outputs, { kind: 'relay', payload: JSON.stringify({ keys, tags, versions }), sourceLsn: msg.lsn }];
  }

  private explicit(payload: string | null, ctx: CommitContext, table: string, key: string, change: unknown): Output[] {
    const parsed = parseExplicitInvalidation(payload ?? '');
    if (parsed.status === 'error') return [this.deadLetter(ctx, key, parsed.reason, table, change)];
    return [published(this.event(ctx, table, Operation.MESSAGE, parsed))];
  }

  private event(
    ctx: CommitContext,
    table: string,
    operation: Operation,
    ops: { keys?: string[]; tags?: string[]; versions?: string[]; patterns?: string[] },
  ) {
    return create(InvalidationEventSchema, {
      id: `${this.region}:${ctx.finalLsn}:${ctx.index++}`,
      region: this.region,
      sourceLsn: ctx.finalLsn,
      primaryLsn: this.primaryWal ? ctx.finalLsn : '',
      primaryCommitTime: ctx.commitTime ? timestampFromDate(ctx.commitTime) : undefined,
      table,
      operation,
      keys: ops.keys ?? [],
      tags: ops.tags ?? [],
      versions: ops.versions ?? [],
      patterns: ops.patterns ?? [],
      emittedTime: timestampFromDate(this.now()),
    });
  }

  private deadLetter(ctx: CommitContext, key: string, reason: string, table: string, change: unknown): Output {
    ctx.index++;
    return {
      kind: 'dead-letter',
      key,
      deadLetter: create(DeadLetterSchema, {
        region: this.region,
        component: 'cdc-reader',
        reason,
        attempts: 1,
        failedTime: timestampFromDate(this.now()),
        change: JSON.stringify(change),
        table,
        sourceLsn: ctx.finalLsn,
      }),
    };
  }
}

function qualified(relation: Relation): string {
  return `${relation.schema}.${relation.name}`;
}

/** An event to publish, keyed as the contract says (a replayed dead letter is keyed the same way). */
function published(event: InvalidationEvent): Output {
  return { kind: 'event', key: eventKey(event), event };
}
