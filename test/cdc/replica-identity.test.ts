import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RegionEndpoints } from '@fabric/sandbox';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { invalidation, invalidatorFor, producerFor } from '../invalidator/harness.js';
import { eventually, withDb } from '../support.js';
import { decodeDeadLetter, decodeEvent, isData, type ReaderUnderTest, readerFor, readTopic } from './harness.js';

// Tried as a new operator would: with REPLICA IDENTITY DEFAULT (PostgreSQL's default) a
// team move sent the whole change to the DLQ and invalidated nothing, not even the key the
// new row could render, while every region said healthy. Now the reader refuses to start
// and names the ALTER; with --replica-identity warn it starts, warns, invalidates what
// renders and dead-letters only the {old.*} template. A change on a table no rule knows
// (here: a table renamed under the rules) is counted and warned about once.

const METRICS_PORT = 31601;
const suffix = randomBytes(3).toString('hex');
const table = `ri_users_${suffix}`;
const qualified = `public.${table}`;
const renamed = `${table}_renamed`;
const keyPrefix = `riu${suffix}`;

let home: RegionEndpoints;
let rulesPath: string;
let redis: Redis;
const readers: ReaderUnderTest[] = [];
const disposers: Array<() => Promise<void>> = [];

const logOf = (reader: ReaderUnderTest) =>
  readFileSync(
    path.join(
      inject('endpoints').stateDir,
      reader.region.region,
      'logs',
      `reader-${reader.slot.slice('test_'.length)}.log`,
    ),
    'utf8',
  );

beforeAll(async () => {
  home = inject('endpoints').regions.find((r) => r.home)!;
  await withDb(home, async (db) => {
    await db.query(`create table public.${table} (id int primary key, team_id int, email text)`);
    await db.query(`insert into public.${table} values (1, 1, 'ada@example.com')`);
  });
  rulesPath = path.join(inject('endpoints').stateDir, `rules-${table}.yaml`);
  writeFileSync(
    rulesPath,
    [
      'version: 1',
      'tables:',
      `  ${qualified}:`,
      `    keys: ["${keyPrefix}:{id}"]`,
      `    tags: ["${keyPrefix}team:{team_id}:members", "${keyPrefix}team:{old.team_id}:members"]`,
      '    recovery:',
      `      patterns: ["${keyPrefix}:*"]`,
      '',
    ].join('\n'),
  );
  redis = new Redis(home.redis.url);
});

afterAll(async () => {
  for (const dispose of disposers.reverse()) await dispose().catch(() => {});
  for (const reader of readers) await reader.dispose().catch(() => {});
  redis?.disconnect();
  await withDb(home, async (db) => {
    await db.query(`drop table if exists public.${table}`);
    await db.query(`drop table if exists public.${renamed}`);
  });
});

describe('key rules against REPLICA IDENTITY DEFAULT', () => {
  it('refuses to start, naming table, rule and the ALTER, before any slot exists (home and standby)', async () => {
    const endpoints = inject('endpoints');
    // On a physical standby the table and its catalog arrive by replication, readable read-only.
    const regions = endpoints.replication === 'physical' ? endpoints.regions : [home];
    for (const region of regions) {
      const reader = await readerFor(region, { rules: rulesPath, name: 'riref' });
      readers.push(reader);
      // start() polls for streaming until its own deadline; the refusal is an exit, seen at once.
      void reader.start().catch(() => {});
      expect(await eventually(`reader in ${region.region} refused`, async () => reader.exitCode() ?? undefined)).toBe(
        2,
      );
      const log = logOf(reader);
      expect(log).toContain(`${qualified} has REPLICA IDENTITY DEFAULT (old values logged for: id)`);
      expect(log).toContain(`tables["${qualified}"].tags[1] "${keyPrefix}team:{old.team_id}:members"`);
      expect(log).toContain(`Run: ALTER TABLE ${qualified} REPLICA IDENTITY FULL;`);
      const slots = await withDb(region, (db) =>
        db.query('select 1 from pg_replication_slots where slot_name = $1', [reader.slot]),
      );
      expect(slots.rowCount).toBe(0);
    }
  });

  describe('with --replica-identity warn', () => {
    let reader: ReaderUnderTest;
    const metrics = async () => (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();

    beforeAll(async () => {
      reader = await readerFor(home, {
        rules: rulesPath,
        name: 'riwarn',
        extraArgs: ['--replica-identity', 'warn', '--metrics-port', String(METRICS_PORT)],
      });
      readers.push(reader);
      await reader.start();
    });

    it('starts, warns, and says how many templates need FULL in a metric', async () => {
      expect(logOf(reader)).toContain('Starting anyway (--replica-identity warn)');
      expect(await metrics()).toMatch(
        new RegExp(`fabric_cdc_rule_replica_identity_gaps\\{[^}]*table="${qualified}"[^}]*\\} 2\\b`),
      );
    });

    it('a team move invalidates what the new row renders and dead-letters only the old team, with its reason', async () => {
      const invalidator = await invalidatorFor(home, { topic: reader.topic, name: 'riinv' });
      disposers.push(() => invalidator.dispose());
      await invalidator.start();
      await redis.set(`${keyPrefix}:1`, 'cached');

      await withDb(home, (db) => db.query(`update public.${table} set team_id = 2 where id = 1`));

      await eventually('the user key invalidated in Redis', async () =>
        (await redis.exists(`${keyPrefix}:1`)) === 0 ? true : undefined,
      );
      const events = await readTopic(home, reader.topic, decodeEvent, (all) => all.some(isData));
      const moved = events.filter(isData);
      expect(moved.map((e) => [e.keys, e.tags])).toEqual([[[`${keyPrefix}:1`], [`${keyPrefix}team:2:members`]]]);
      const [letter] = await readTopic(home, reader.dlqTopic, decodeDeadLetter, (all) => all.length >= 1);
      expect(letter!.reason).toBe(
        `cannot render tags[1] "${keyPrefix}team:{old.team_id}:members" for update on ${qualified} (row id=1): ` +
          'old value of column "team_id" is not available: pgoutput sent no old row; ' +
          `run ALTER TABLE ${qualified} REPLICA IDENTITY FULL`,
      );
      expect(letter!.table).toBe(qualified);
      expect(JSON.parse(letter!.change).newRow).toMatchObject({ id: '1', team_id: '2' });
    });

    it('the invalidator applies the valid entries of an event and dead-letters only the empty one', async () => {
      const invalidator = await invalidatorFor(home, { name: 'ripart' });
      disposers.push(() => invalidator.dispose());
      await invalidator.start();
      await redis.set(`${keyPrefix}:partial`, 'cached');
      const producer = await producerFor(home);
      disposers.push(() => producer.disconnect());
      const event = invalidation({ keys: [`${keyPrefix}:partial`, ''], table: qualified });
      await producer.publish(invalidator.topic, [event]);

      await eventually('the valid key invalidated', async () =>
        (await redis.exists(`${keyPrefix}:partial`)) === 0 ? true : undefined,
      );
      const [letter] = await readTopic(home, invalidator.dlqTopic, decodeDeadLetter, (all) => all.length >= 1);
      expect(letter!.reason).toBe(
        `invalid entries of event ${event.id}, dead-lettered apart from the rest: keys[1] is empty`,
      );
      expect(letter!.component).toBe('invalidator');
    });

    it('counts changes on a table no rule knows (renamed) and warns once per relation', async () => {
      await withDb(home, async (db) => {
        await db.query(`alter table public.${table} rename to ${renamed}`);
        await db.query(`insert into public.${renamed} values (2, 1, 'bea@example.com')`);
        await db.query(`insert into public.${renamed} values (3, 1, 'cy@example.com')`);
      });
      const series = new RegExp(
        `fabric_cdc_changes_skipped_total\\{[^}]*table="public\\.${renamed}"[^}]*reason="no-rule"[^}]*\\} 2\\b|` +
          `fabric_cdc_changes_skipped_total\\{[^}]*reason="no-rule"[^}]*table="public\\.${renamed}"[^}]*\\} 2\\b`,
      );
      await eventually('two skipped changes counted', async () => (series.test(await metrics()) ? true : undefined));
      const warnings = logOf(reader)
        .split('\n')
        .filter((l) => l.includes(`changes on public.${renamed} are skipped`));
      expect(warnings).toHaveLength(1);
    });
  });
});
