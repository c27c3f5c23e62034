import type pg from 'pg';

/**
 * A standby cannot run DDL: its reader's publication is created once at the primary and
 * arrives by replication. Waits for it (and for every table the rules need to be in it),
 * so readers of every region can start in any order; says what is missing once the wait
 * is over.
 */
export interface PublicationWait {
  publication: string;
  tables: string[];
  timeoutMs: number;
  onWait: (message: string) => void;
  sleep: (ms: number) => Promise<void>;
}

export async function awaitPublication(client: pg.Client, wait: PublicationWait): Promise<string | undefined> {
  const deadline = Date.now() + wait.timeoutMs;
  let told = false;
  for (;;) {
    const missing = await missingTables(client, wait.publication, wait.tables);
    if (missing === undefined || missing.length > 0) {
      const problem =
        missing === undefined
          ? `publication ${wait.publication} does not exist on this standby`
          : `publication ${wait.publication} does not publish ${missing.join(', ')}`;
      if (Date.now() >= deadline) return problem;
      if (!told) wait.onWait(`${problem} yet; waiting for it to arrive from the primary`);
      told = true;
      await wait.sleep(500);
      continue;
    }
    return undefined;
  }
}

/** undefined: no such publication; otherwise the wanted tables it does not publish. */
async function missingTables(client: pg.Client, publication: string, tables: string[]): Promise<string[] | undefined> {
  const pub = await client.query<{ puballtables: boolean }>(
    'select puballtables from pg_publication where pubname = $1',
    [publication],
  );
  if (pub.rowCount === 0) return undefined;
  if (pub.rows[0]!.puballtables) return [];
  const { rows } = await client.query<{ schemaname: string; tablename: string }>(
    'select schemaname, tablename from pg_publication_tables where pubname = $1',
    [publication],
  );
  const have = new Set(rows.map((r) => `${r.schemaname}.${r.tablename}`));
  return tables.filter((t) => !have.has(t));
}
