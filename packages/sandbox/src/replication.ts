import { setTimeout as sleep } from 'node:timers/promises';
import { subscriptionName } from '@fabric/contracts';
import type { Logger } from 'pino';
import { DATABASE, DEMO_SCHEMA, PUBLICATION, REPLICATED_TABLES } from './demo-schema.js';
import { ServiceStartError } from './errors.js';
import { FABRIC_SCHEMA } from './fabric-schema.js';
import { query } from './postgres.js';

export interface DatabaseEndpoint {
  region: string;
  host: string;
  port: number;
}

/** Creates the database, the fabric's own tables and the demo schema in one region; safe to repeat on restart. */
export async function ensureSchema(db: DatabaseEndpoint): Promise<void> {
  const exists = await query(db.host, db.port, 'postgres', `select 1 from pg_database where datname = '${DATABASE}'`);
  if (exists.rowCount === 0) await query(db.host, db.port, 'postgres', `create database ${DATABASE}`);
  await query(db.host, db.port, DATABASE, FABRIC_SCHEMA);
  await query(db.host, db.port, DATABASE, DEMO_SCHEMA);
}

export async function ensurePublication(primary: DatabaseEndpoint): Promise<void> {
  const exists = await query(
    primary.host,
    primary.port,
    DATABASE,
    `select 1 from pg_publication where pubname = '${PUBLICATION}'`,
  );
  if (exists.rowCount === 0) {
    await query(
      primary.host,
      primary.port,
      DATABASE,
      `create publication ${PUBLICATION} for table ${REPLICATED_TABLES.join(', ')}`,
    );
  }
}

/**
 * Subscribes a regional replica to the primary's publication. The subscription's own
 * slot lives on the primary, so an unreachable region holds WAL there until it returns
 * (bounded by max_slot_wal_keep_size).
 */
export async function ensureSubscription(
  replica: DatabaseEndpoint,
  primary: DatabaseEndpoint,
  opts: {
    copyData?: boolean;
    /** Its slot was made on the primary beforehand (`reserveSubscriptionSlot`), so it starts there. */
    reservedSlot?: boolean;
  } = {},
): Promise<void> {
  const name = subscriptionName(replica.region);
  const exists = await query(
    replica.host,
    replica.port,
    DATABASE,
    `select 1 from pg_subscription where subname = '${name}'`,
  );
  if (exists.rowCount === 0) {
    const conninfo = `host=${primary.host} port=${primary.port} dbname=${DATABASE} user=postgres application_name=${name}`;
    const options = [
      // A replica moved to a new primary already holds the rows: copying them again would fail on their keys.
      ...(opts.copyData === false ? ['copy_data = false'] : []),
      ...(opts.reservedSlot ? ['create_slot = false', `slot_name = '${name}'`] : []),
    ];
    await query(
      replica.host,
      replica.port,
      DATABASE,
      `create subscription ${name} connection '${conninfo}' publication ${PUBLICATION}` +
        (options.length > 0 ? ` with (${options.join(', ')})` : ''),
    );
  }
  // Subscriptions default to synchronous_commit=off: applied changes then reach the replica's
  // own WAL only at the next WAL writer round (200 ms), and its CDC reader sees them that
  // much later. 'local' flushes each applied transaction, as the primary does.
  await query(replica.host, replica.port, DATABASE, `alter subscription ${name} set (synchronous_commit = 'local')`);
}

/**
 * Makes the slot a replica's subscription will stream from, on the primary, now: a
 * subscription made later starts where its slot was made, and every commit in between
 * would never reach that replica.
 */
export async function reserveSubscriptionSlot(replica: DatabaseEndpoint, primary: DatabaseEndpoint): Promise<string> {
  const name = subscriptionName(replica.region);
  const { rows } = await query(
    primary.host,
    primary.port,
    DATABASE,
    `select lsn::text from pg_create_logical_replication_slot('${name}', 'pgoutput')`,
  );
  return rows[0].lsn as string;
}

/** Waits until the initial table copy has finished and every table streams. */
export async function waitForSubscriptionSync(
  replica: DatabaseEndpoint,
  logger: Logger,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const sql = `select count(*)::int as total, count(*) filter (where srsubstate in ('r', 's'))::int as ready
               from pg_subscription_rel r join pg_subscription s on s.oid = r.srsubid
               where s.subname = '${subscriptionName(replica.region)}'`;
  while (Date.now() < deadline) {
    const { rows } = await query(replica.host, replica.port, DATABASE, sql);
    const { total, ready } = rows[0] as { total: number; ready: number };
    if (total === REPLICATED_TABLES.length && ready === total) return;
    logger.debug({ region: replica.region, ready, total }, 'waiting for initial table sync');
    await sleep(250);
  }
  throw new ServiceStartError(`${replica.region} subscription`, `initial table sync not done after ${timeoutMs} ms`);
}
