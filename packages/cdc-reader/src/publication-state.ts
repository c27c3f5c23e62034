import type pg from 'pg';

export interface PublicationState {
  allTables: boolean;
  /** "schema.table" of every table it publishes. */
  tables: Set<string>;
}

/** A publication as the catalog of this database has it; undefined when there is none. */
export async function publicationState(client: pg.Client, publication: string): Promise<PublicationState | undefined> {
  const pub = await client.query<{ puballtables: boolean }>(
    'select puballtables from pg_publication where pubname = $1',
    [publication],
  );
  if (pub.rowCount === 0) return undefined;
  const { rows } = await client.query<{ schemaname: string; tablename: string }>(
    'select schemaname, tablename from pg_publication_tables where pubname = $1',
    [publication],
  );
  return { allTables: pub.rows[0]!.puballtables, tables: new Set(rows.map((r) => `${r.schemaname}.${r.tablename}`)) };
}
