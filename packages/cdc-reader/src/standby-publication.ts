import type pg from 'pg';
import { publicationState } from './publication-state.js';

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
  const pub = await publicationState(client, publication);
  if (!pub) return undefined;
  return pub.allTables ? [] : tables.filter((t) => !pub.tables.has(t));
}
