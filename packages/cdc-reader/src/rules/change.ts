/**
 * A decoded row change, independent of the pgoutput wire format so that the key rules can
 * be tested (and reused) without a replication connection.
 */

/** Text-format value as pgoutput sends it; null is SQL NULL. */
export type ColumnValue = string | null;

export type Row = Record<string, ColumnValue>;

export interface RowChange {
  kind: 'insert' | 'update' | 'delete';
  /** Schema-qualified name, "public.users". */
  table: string;
  /** Replica identity columns, from the RELATION message. Empty for REPLICA IDENTITY NOTHING. */
  keyColumns: string[];
  /** Insert/update: the new tuple, minus the columns listed in `unchangedToast`. */
  newRow?: Row;
  /**
   * Update/delete, only when pgoutput sent an old ('O') or key ('K') tuple.
   *
   * Contract for the decoder: for a 'K' tuple include ONLY the key columns. pgoutput sends
   * every other column of a 'K' tuple as NULL ('n') although its real value is unknown; if
   * those NULLs got here they would read as "value is NULL" and silently suppress keys.
   */
  oldRow?: Row;
  /** Columns of the new tuple sent as 'u' (unchanged TOASTed value): their value is NOT in newRow. */
  unchangedToast: string[];
}
