/**
 * Messages of the pgoutput logical replication protocol, version 1, as decoded by
 * PgoutputDecoder. Column values stay exactly as the text PostgreSQL sent them; nothing is
 * parsed into numbers, dates or JSON here.
 *
 * Reference: https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
 */
import type { Lsn } from '@fabric/contracts';

export type { Lsn } from '@fabric/contracts';

export interface Column {
  name: string;
  typeOid: number;
  /** Part of the replica identity. Under REPLICA IDENTITY FULL pgoutput flags EVERY column. */
  isKey: boolean;
}

/** REPLICA IDENTITY: d = default (primary key), n = nothing, f = full, i = index. */
export type ReplicaIdentity = 'd' | 'n' | 'f' | 'i';

export interface Relation {
  /** pg_class oid. */
  id: number;
  /** Schema name; pgoutput sends "" for pg_catalog, which the decoder maps to "pg_catalog". */
  schema: string;
  name: string;
  replicaIdentity: ReplicaIdentity;
  columns: Column[];
}

export interface Tuple {
  /** Column name -> text value; null is SQL NULL. Columns sent as 'u' are NOT in here. */
  values: Record<string, string | null>;
  /** Columns sent as 'u': an unchanged TOASTed value whose content was not sent. */
  unchangedToast: string[];
}

export interface BeginMessage {
  tag: 'begin';
  /** LSN of the commit record (its start); equals the COMMIT message's commitLsn. */
  finalLsn: Lsn;
  commitTime: Date;
  /**
   * Commit time in microseconds since the UNIX epoch (the wire value, microseconds since
   * 2000-01-01, shifted by PG_EPOCH_UNIX_MICROS), full precision where `commitTime` is ms.
   * On a logical replica it is the ORIGIN's commit time (the replica's commit record carries it).
   */
  commitTimeMicros: bigint;
  xid: number;
}

export interface CommitMessage {
  tag: 'commit';
  flags: number;
  /** Start of the commit record. */
  commitLsn: Lsn;
  /**
   * End of the commit record. This is the position to confirm once the transaction is
   * durable downstream (it is also the XLogData LSN the commit arrives with).
   */
  endLsn: Lsn;
  commitTime: Date;
  /** Microseconds since the UNIX epoch, see BeginMessage.commitTimeMicros. */
  commitTimeMicros: bigint;
}

export interface OriginMessage {
  tag: 'origin';
  /** Commit LSN on the origin server. */
  originLsn: Lsn;
  name: string;
}

export interface RelationMessage {
  tag: 'relation';
  relation: Relation;
}

export interface TypeMessage {
  tag: 'type';
  typeOid: number;
  schema: string;
  name: string;
}

export interface InsertMessage {
  tag: 'insert';
  relation: Relation;
  newTuple: Tuple;
}

export type OldTupleKind = 'K' | 'O';

export interface UpdateMessage {
  tag: 'update';
  relation: Relation;
  /** 'K': only the replica identity key is meaningful (other columns come as NULL); 'O': the full old row. */
  oldKind?: OldTupleKind;
  oldTuple?: Tuple;
  newTuple: Tuple;
}

export interface DeleteMessage {
  tag: 'delete';
  relation: Relation;
  oldKind: OldTupleKind;
  oldTuple: Tuple;
}

export interface TruncateMessage {
  tag: 'truncate';
  relations: Relation[];
  cascade: boolean;
  restartIdentity: boolean;
}

export interface LogicalMessage {
  tag: 'message';
  /** pg_logical_emit_message(true, ...): sent inside its transaction, only if it commits. */
  transactional: boolean;
  /**
   * End of the message's WAL record (what pg_logical_emit_message returned). For a
   * non-transactional message, confirming it marks the message done.
   */
  lsn: Lsn;
  prefix: string;
  content: Buffer;
}

export type PgoutputMessage =
  | BeginMessage
  | CommitMessage
  | OriginMessage
  | RelationMessage
  | TypeMessage
  | InsertMessage
  | UpdateMessage
  | DeleteMessage
  | TruncateMessage
  | LogicalMessage;

export type PgoutputTag = PgoutputMessage['tag'];

export type RowMessage = InsertMessage | UpdateMessage | DeleteMessage;

export function isRowMessage(msg: PgoutputMessage): msg is RowMessage {
  return msg.tag === 'insert' || msg.tag === 'update' || msg.tag === 'delete';
}

/** "schema.name", as the key rules and the publication spell tables. */
export function qualifiedName(relation: Pick<Relation, 'schema' | 'name'>): string {
  return `${relation.schema}.${relation.name}`;
}

/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in microseconds since the UNIX epoch. */
export const PG_EPOCH_UNIX_MICROS = 946_684_800_000_000n;
