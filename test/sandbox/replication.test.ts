import { describe, expect, inject, it } from 'vitest';
import { eventually, withDb } from '../support.js';

describe('sandbox replication', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  const replicas = endpoints.regions.filter((r) => !r.home);

  it('runs one primary and a logical replica in every other region', () => {
    expect(endpoints.regions.map((r) => r.region)).toEqual(['us-east', 'eu-west', 'ap-south']);
    expect(home.region).toBe('us-east');
    expect(replicas).toHaveLength(2);
  });

  it('carries a row written at the primary to every regional replica', async () => {
    const name = `team-${Date.now()}`;
    const id = await withDb(home, async (db) => {
      const { rows } = await db.query(
        'insert into teams (id, name) values ((extract(epoch from clock_timestamp()) * 1000)::bigint, $1) returning id',
        [name],
      );
      return rows[0].id as string;
    });
    for (const replica of replicas) {
      const seen = await eventually(`team ${id} in ${replica.region}`, () =>
        withDb(
          replica,
          async (db) =>
            (await db.query('select name from teams where id = $1', [id])).rows[0]?.name as string | undefined,
        ),
      );
      expect(seen).toBe(name);
    }
  });

  it('replicates updates and deletes too, not only the initial copy', async () => {
    const id = 9_000_000 + Math.floor(Math.random() * 1_000_000);
    await withDb(home, (db) => db.query("insert into users (id, team_id, name) values ($1, 1, 'before')", [id]));
    await withDb(home, (db) => db.query("update users set name = 'after' where id = $1", [id]));
    for (const replica of replicas) {
      await eventually(`update of user ${id} in ${replica.region}`, () =>
        withDb(replica, async (db) =>
          (await db.query('select name from users where id = $1', [id])).rows[0]?.name === 'after' ? true : undefined,
        ),
      );
    }
    await withDb(home, (db) => db.query('delete from users where id = $1', [id]));
    for (const replica of replicas) {
      await eventually(`delete of user ${id} in ${replica.region}`, () =>
        withDb(replica, async (db) =>
          (await db.query('select 1 from users where id = $1', [id])).rowCount === 0 ? true : undefined,
        ),
      );
    }
  });

  it.skipIf(inject('endpoints').replication !== 'physical')(
    'makes each standby stream from the primary through a physical slot of its own, read-only',
    async () => {
      const streaming = await withDb(home, async (db) =>
        (
          await db.query(
            `select r.application_name, s.slot_name, r.state from pg_stat_replication r
             join pg_replication_slots s on s.active_pid = r.pid where s.slot_type = 'physical' order by 1`,
          )
        ).rows.map((row) => [row.application_name, row.slot_name, row.state]),
      );
      expect(streaming).toEqual(
        replicas
          .map((r) => [r.region.replace('-', '_'), `fabric_standby_${r.region.replace('-', '_')}`, 'streaming'])
          .sort(),
      );
      for (const replica of replicas) {
        await expect(
          withDb(replica, (db) => db.query("insert into teams (id, name) values (-1, 'no')")),
        ).rejects.toThrow(/read-only transaction/);
      }
    },
  );

  it.skipIf(inject('endpoints').replication !== 'logical')(
    'keeps logical replicas read-write-separated: each has its own subscription to the primary',
    async () => {
      for (const replica of replicas) {
        const subs = await withDb(
          replica,
          async (db) => (await db.query('select subname, subenabled from pg_subscription')).rows,
        );
        expect(subs).toEqual([{ subname: `fabric_sub_${replica.region.replace('-', '_')}`, subenabled: true }]);
      }
      const slots = await withDb(home, async (db) =>
        (await db.query("select slot_name from pg_replication_slots where slot_type = 'logical' order by 1")).rows.map(
          (r) => r.slot_name,
        ),
      );
      expect(slots).toEqual(['fabric_sub_ap_south', 'fabric_sub_eu_west']);
    },
  );
});
