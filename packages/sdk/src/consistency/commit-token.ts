import { isLsn, lsnToBigInt } from '@fabric/contracts';

/**
 * A read-your-writes token: the primary's WAL position right after the application's write
 * committed ("X/Y", opaque to callers; pass it along, e.g. in a session or a header).
 */
export type CommitToken = string & { readonly __commitToken: unique symbol };

/** Anything with pg's `query`: a pg.Client, a pool client, a pool. */
export interface Queryable {
  query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export class CommitTokenError extends Error {
  override readonly name = 'CommitTokenError';
}

/**
 * Call on the connection that committed, right after COMMIT: pg_current_wal_lsn() there is
 * at or past the commit's own LSN, so a region whose watermark reached it has applied the
 * write. On a standby there is no such position of its own to give.
 */
export async function commitToken(client: Queryable): Promise<CommitToken> {
  let lsn: unknown;
  try {
    ({ lsn } = (await client.query('select pg_current_wal_lsn()::text as lsn')).rows[0] ?? {});
  } catch (err) {
    if ((err as { code?: string }).code === '55000')
      throw new CommitTokenError(
        'commitToken: this connection is to a standby (recovery is in progress); take the token on the primary connection that committed the write',
      );
    throw err;
  }
  return parseCommitToken(String(lsn));
}

/** A token as it came back from a client (a header, a cookie); throws CommitTokenError when it is not one. */
export function parseCommitToken(text: string): CommitToken {
  if (!isLsn(text)) throw new CommitTokenError(`not a commit token (an LSN like 16/B374D848): ${JSON.stringify(text)}`);
  return text as CommitToken;
}

export const tokenPosition = (token: CommitToken): bigint => lsnToBigInt(token);
