import { OUTBOX_TABLE } from '@fabric/contracts';
import type pg from 'pg';

/**
 * Copies a logical message into the outbox at the primary so that subscriptions carry
 * it to every regional replica (they do not carry logical messages themselves). Runs
 * before the message's commit is confirmed: a crash relays again, which only duplicates
 * an idempotent invalidation.
 */
export class MessageRelay {
  constructor(
    private readonly pool: pg.Pool,
    private readonly region: string,
  ) {}

  async relay(payload: string, sourceLsn: string): Promise<void> {
    await this.pool.query(`insert into ${OUTBOX_TABLE} (payload, relayed_from) values ($1::jsonb, $2)`, [
      payload,
      relayMark(this.region, sourceLsn),
    ]);
  }
}

/**
 * `relayed_from` says which region relayed the row and from which message:
 * "<region>:<lsn>". The relaying region already applied the message itself and skips its
 * own rows; every other region applies them, including a region that later becomes home.
 */
export function relayMark(region: string, sourceLsn: string): string {
  return `${region}:${sourceLsn}`;
}

/** The region that relayed an outbox row; rows from before the mark named a region were the home region's. */
export function relayOrigin(relayedFrom: string): { region: string } | { legacy: true } {
  const colon = relayedFrom.indexOf(':');
  return colon > 0 ? { region: relayedFrom.slice(0, colon) } : { legacy: true };
}
