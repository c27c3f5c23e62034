import { OUTBOX_TABLE } from '@fabric/contracts';
import type pg from 'pg';

/**
 * Copies a logical message into the outbox at the primary so that subscriptions carry
 * it to every regional replica (they do not carry logical messages themselves). Runs
 * before the message's commit is confirmed: a crash relays again, which only duplicates
 * an idempotent invalidation.
 */
export class MessageRelay {
  constructor(private readonly pool: pg.Pool) {}

  async relay(payload: string, sourceLsn: string): Promise<void> {
    await this.pool.query(`insert into ${OUTBOX_TABLE} (payload, relayed_from) values ($1::jsonb, $2)`, [
      payload,
      sourceLsn,
    ]);
  }
}
