import { redact } from '@fabric/runtime';
import pg from 'pg';

/**
 * The reader cannot start without its database. A refused or unresolvable address is the
 * operator's to fix, so it ends the process as one line naming the URL (password masked)
 * and the flag, not as a stack trace that reads like a bug.
 */
export class PostgresAccessError extends Error {
  override readonly name = 'PostgresAccessError';
}

const ADDRESS_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET']);

export async function connectSetupClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    const e = err as Error & { code?: string };
    const hint = ADDRESS_CODES.has(e.code ?? '')
      ? 'is the server up and is --postgres (FABRIC_POSTGRES_URL) the right address?'
      : 'check the role, password and database in --postgres (FABRIC_POSTGRES_URL)';
    throw new PostgresAccessError(`cannot connect to PostgreSQL at ${redact(url)}: ${e.message}; ${hint}`);
  }
}
