import { setTimeout as sleep } from 'node:timers/promises';
import { subscriptionName } from '@fabric/contracts';
import { DATABASE } from './demo-schema.js';
import type { RegionEndpoints } from './endpoints.js';
import { FailoverError, type FailoverStep } from './failover-report.js';
import { query } from './postgres.js';
import { ensurePublication, ensureSubscription, reserveSubscriptionSlot } from './replication.js';

type Step = (name: FailoverStep['step'], region: string, work: () => Promise<string>) => Promise<void>;

/**
 * A planned failover of logical replicas. Every region's database has WAL of its own and
 * its reader decodes it, so no slot is lost and no timeline changes: the subscriptions move.
 *
 * 1. fence: the old primary turns read-only and its client sessions end;
 * 2. catch-up: every subscription confirms the old primary's last position;
 * 3. promote: the target drops its subscription and publishes the replicated tables;
 * 4. repoint: every other replica drops its subscription and subscribes to the target
 *    without copying (it already holds the same rows);
 * 5. slots: the old primary's subscription slot is made on the target, before any write
 *    reaches the target, so that subscription starts at the last write the old primary holds;
 * 6. home: the target is recorded as home, so writers go there;
 * 7. only then the old primary leaves read-only, drops its subscription slots and
 *    subscribes to the target through the slot of step 5: a write reaching it before step 6
 *    could never be replicated anywhere, and a slot made only now would skip every write
 *    the target took since step 6.
 */
export async function logicalFailover(
  regions: readonly RegionEndpoints[],
  old: RegionEndpoints,
  target: RegionEndpoints,
  step: Step,
  setHome: () => void,
): Promise<void> {
  const sql = (r: RegionEndpoints, text: string) => query(r.postgres.host, r.postgres.port, DATABASE, text);
  const replicas = regions.filter((r) => r !== old);
  let last = '';
  await step('fence', old.region, async () => {
    await sql(old, 'alter system set default_transaction_read_only = on');
    await sql(old, 'select pg_reload_conf()');
    await sql(
      old,
      `select pg_terminate_backend(pid) from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid()`,
    );
    last = (await sql(old, 'select pg_current_wal_lsn()::text as lsn')).rows[0].lsn as string;
    return `read-only at ${last}, client sessions ended`;
  });
  for (const r of replicas)
    await step('catch-up', r.region, async () => {
      await confirmed(old, subscriptionName(r.region), last);
      return `subscription confirmed ${last}`;
    });
  await step('promote', target.region, async () => {
    await dropSubscription(target);
    await ensurePublication({ region: target.region, host: target.postgres.host, port: target.postgres.port });
    return 'subscription dropped, replicated tables published';
  });
  const endpoint = (x: RegionEndpoints) => ({ region: x.region, host: x.postgres.host, port: x.postgres.port });
  for (const r of replicas.filter((x) => x !== target))
    await step('repoint', r.region, async () => {
      await dropSubscription(r);
      await ensureSubscription(endpoint(r), endpoint(target), { copyData: false });
      return `subscribes to ${target.region} (no copy: it holds the same rows)`;
    });
  await step('slots', target.region, async () => {
    const at = await reserveSubscriptionSlot(endpoint(old), endpoint(target));
    return `slot ${subscriptionName(old.region)} for ${old.region} made at ${at}`;
  });
  await step('home', target.region, async () => {
    setHome();
    return `${target.region} is the home region`;
  });
  await step('repoint', old.region, async () => {
    for (const other of replicas) await dropSlot(old, subscriptionName(other.region));
    await sql(old, 'alter system reset default_transaction_read_only');
    await sql(old, 'select pg_reload_conf()');
    await ensureSubscription(endpoint(old), endpoint(target), { copyData: false, reservedSlot: true });
    return `writable again, subscribes to ${target.region} from its slot (no copy)`;
  });
}

/** A subscription's walsender takes a moment to exit after it was dropped; until then its slot is in use. */
async function dropSlot(r: RegionEndpoints, slot: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await query(
        r.postgres.host,
        r.postgres.port,
        DATABASE,
        `select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '${slot}'`,
      );
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new FailoverError(`${r.region}: cannot drop slot ${slot}: ${(err as Error).message}`);
      await sleep(300);
    }
  }
}

async function dropSubscription(r: RegionEndpoints): Promise<void> {
  const name = subscriptionName(r.region);
  const sql = (text: string) => query(r.postgres.host, r.postgres.port, DATABASE, text);
  if ((await sql(`select 1 from pg_subscription where subname = '${name}'`)).rowCount === 0) return;
  // The old primary keeps the slot; detached first, so dropping does not try to reach it.
  await sql(`alter subscription ${name} disable`);
  await sql(`alter subscription ${name} set (slot_name = none)`);
  await sql(`drop subscription ${name}`);
}

async function confirmed(primary: RegionEndpoints, slot: string, lsn: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await query(
      primary.postgres.host,
      primary.postgres.port,
      DATABASE,
      `select confirmed_flush_lsn >= '${lsn}'::pg_lsn as done from pg_replication_slots where slot_name = '${slot}'`,
    );
    if (rows[0]?.done) return;
    await sleep(200);
  }
  throw new FailoverError(`subscription slot ${slot} did not confirm ${lsn} within ${timeoutMs / 1000} s`);
}
