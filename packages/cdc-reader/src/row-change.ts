/**
 * Decoded INSERT / UPDATE / DELETE -> RowChange (the key rules' input, see rules/change.ts).
 * Here, between the two layers, so that the wire protocol knows nothing of key rules and
 * the rules nothing of pgoutput.
 */
import { qualifiedName, type Relation, type RowMessage, type Tuple } from './pgoutput/index.js';
import type { Row, RowChange } from './rules/change.js';

function keyColumnsOf(relation: Relation): string[] {
  return relation.columns.filter((c) => c.isKey).map((c) => c.name);
}

/**
 * The old row as the key rules may read it. For a 'K' tuple pgoutput sends every non-key
 * column as NULL although its value is unknown, so only the key columns are kept.
 */
function oldRowOf(kind: 'K' | 'O', tuple: Tuple, keyColumns: string[]): Row {
  if (kind === 'O') return { ...tuple.values };
  const row: Row = {};
  for (const name of keyColumns) {
    if (Object.hasOwn(tuple.values, name)) row[name] = tuple.values[name] ?? null;
  }
  return row;
}

/**
 * Maps a decoded row message to a RowChange. `table` defaults to the relation's
 * "schema.name"; pass it to override (e.g. an alias).
 */
export function toRowChange(msg: RowMessage, table: string = qualifiedName(msg.relation)): RowChange {
  const keyColumns = keyColumnsOf(msg.relation);
  switch (msg.tag) {
    case 'insert':
      return {
        kind: 'insert',
        table,
        keyColumns,
        newRow: { ...msg.newTuple.values },
        unchangedToast: [...msg.newTuple.unchangedToast],
      };
    case 'update': {
      const change: RowChange = {
        kind: 'update',
        table,
        keyColumns,
        newRow: { ...msg.newTuple.values },
        unchangedToast: [...msg.newTuple.unchangedToast],
      };
      if (msg.oldKind && msg.oldTuple) change.oldRow = oldRowOf(msg.oldKind, msg.oldTuple, keyColumns);
      return change;
    }
    case 'delete':
      return {
        kind: 'delete',
        table,
        keyColumns,
        oldRow: oldRowOf(msg.oldKind, msg.oldTuple, keyColumns),
        unchangedToast: [],
      };
  }
}
