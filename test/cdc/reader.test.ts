import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, withDb } from '../support.js';
import {
  decodeDeadLetter,
  decodeEvent,
  isData,
  Operation,
  type ReaderUnderTest,
  readerFor,
  readTopic,
} from './harness.js';

/**
 * The CDC reader as a real process on real WAL: key rendering, old and new keys, large
 * transactions, TOAST, TRUNCATE, explicit invalidations and dead letters.
 */
describe('cdc reader', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  const readers: ReaderUnderTest[] = [];
  const rulesFile = path.join(endpoints.stateDir, 'reader-test-rules.yaml');

  beforeAll(async () => {
    // Probe tables keep the TRUNCATE and poison cases out of the demo tables other tests
    // use. Every region's reader needs them to exist because the rules name them: standbys
    // get them from the primary; logical replicas do not replicate DDL, so each gets its own.
    const physical = endpoints.replication === 'physical';
    for (const region of physical ? [home] : endpoints.regions) {
      await withDb(region, (db) =>
        db.query(`create table if not exists public.truncate_probe (id int primary key);
                  create table if not exists public.poison_probe (id int primary key, a text)`),
      );
    }
    for (const region of endpoints.regions) {
      await eventually(`probe tables in ${region.region}`, () =>
        withDb(region, async (db) =>
          (await db.query("select to_regclass('public.poison_probe') as t")).rows[0].t ? true : undefined,
        ),
      );
    }
    writeFileSync(
      rulesFile,
      `version: 1
tables:
  public.users:
    keys: ["user:{id}", "user:email:{email}", "user:email:{old.email}"]
    tags: ["team:{team_id}:members", "team:{old.team_id}:members"]
    versions: ["ver:user:{id}"]
    recovery:
      patterns: ["user:*"]
  public.products:
    keys: ["product:{id}"]
    recovery:
      patterns: ["product:*"]
  public.truncate_probe:
    keys: ["probe:{id}"]
    truncate:
      patterns: ["probe:*"]
      tags: ["probes"]
  public.poison_probe:
    keys: ["poison:{nope}"]
    recovery:
      patterns: ["poison:*"]
`,
    );
  });

  afterAll(async () => {
    await Promise.all(readers.map((r) => r.dispose()));
  });

  async function started(region = home, name = 't'): Promise<ReaderUnderTest> {
    const reader = await readerFor(region, { rules: rulesFile, name });
    readers.push(reader);
    await reader.start();
    return reader;
  }

  it('turns an update at the primary into events with old and new keys in every region', async () => {
    const perRegion = await Promise.all(endpoints.regions.map((r) => started(r, 'move')));
    await withDb(home, async (db) => {
      await db.query("insert into users (id, team_id, name, email) values (501, 1, 'ada', 'ada@old.example')");
      await db.query("update users set team_id = 2, email = 'ada@new.example' where id = 501");
    });
    for (const reader of perRegion) {
      const events = await readTopic(reader.region, reader.topic, decodeEvent, (es) => es.filter(isData).length >= 2);
      const update = events.find((e) => e.operation === Operation.UPDATE)!;
      expect(update.table).toBe('public.users');
      expect(update.region).toBe(reader.region.region);
      expect(update.keys).toEqual(['user:501', 'user:email:ada@new.example', 'user:email:ada@old.example']);
      expect(update.tags).toEqual(['team:2:members', 'team:1:members']);
      expect(update.versions).toEqual(['ver:user:501']);
      expect(update.id).toMatch(new RegExp(`^${reader.region.region}:[0-9A-F]+/[0-9A-F]+:0$`));
      // Commit time is the primary's in every region (subscriptions keep the origin time).
      const insert = events.find((e) => e.operation === Operation.INSERT)!;
      expect(Number(update.primaryCommitTime!.seconds)).toBeGreaterThan(Date.now() / 1000 - 120);
      expect(insert.keys).toEqual(['user:501', 'user:email:ada@old.example']);
    }
    const homeEvents = await readTopic(home, perRegion[0]!.topic, decodeEvent, (es) => es.filter(isData).length >= 2);
    const replicaEvents = await readTopic(
      perRegion[1]!.region,
      perRegion[1]!.topic,
      decodeEvent,
      (es) => es.filter(isData).length >= 2,
    );
    expect(replicaEvents.find((e) => e.operation === Operation.UPDATE)!.primaryCommitTime).toEqual(
      homeEvents.find((e) => e.operation === Operation.UPDATE)!.primaryCommitTime,
    );
  });

  it('publishes every row of a 10,000-row single transaction', async () => {
    const reader = await started(home, 'bulk');
    await withDb(home, (db) =>
      db.query(`insert into products (id, sku, name, price_cents)
                select g, 'bulk-' || g, 'bulk item', 100 from generate_series(1000001, 1010000) g`),
    );
    const events = await readTopic(
      home,
      reader.topic,
      decodeEvent,
      (es) => es.filter(isData).length >= 10_000,
      120_000,
    );
    const keys = new Set(events.filter(isData).flatMap((e) => e.keys));
    expect(keys.size).toBe(10_000);
    for (const id of [1000001, 1005000, 1010000]) expect(keys).toContain(`product:${id}`);
    // One transaction: every event carries the same commit LSN and distinct indexes.
    expect(new Set(events.filter(isData).map((e) => e.sourceLsn)).size).toBe(1);
    expect(new Set(events.filter(isData).map((e) => e.id)).size).toBe(10_000);
  });

  it('renders the right keys when a TOASTed column is left unchanged', async () => {
    const reader = await started(home, 'toast');
    await withDb(home, async (db) => {
      // ~100 KB of incompressible text: stored out of line (TOAST).
      await db.query(`insert into users (id, team_id, name, email, bio)
                      select 502, 7, 'toasty', 'toast@example', string_agg(md5(random()::text), '') from generate_series(1, 3000)`);
      await db.query("update users set name = 'toasty 2' where id = 502");
      await db.query("update users set email = 'toast2@example' where id = 502");
    });
    const events = (await readTopic(home, reader.topic, decodeEvent, (es) => es.filter(isData).length >= 3)).filter(
      isData,
    );
    expect(events.map((e) => e.operation)).toEqual([Operation.INSERT, Operation.UPDATE, Operation.UPDATE]);
    expect(events[1]!.keys).toEqual(['user:502', 'user:email:toast@example']);
    expect(events[2]!.keys).toEqual(['user:502', 'user:email:toast2@example', 'user:email:toast@example']);
    for (const e of events) expect([...e.keys, ...e.tags].join(' ')).not.toMatch(/undefined|null/);
    const bioLength = await withDb(
      home,
      async (db) => (await db.query('select length(bio) as n from users where id = 502')).rows[0].n,
    );
    expect(bioLength).toBeGreaterThan(90_000);
  });

  it('handles TRUNCATE with the explicit truncate rule', async () => {
    const reader = await started(home, 'trunc');
    await withDb(home, async (db) => {
      await db.query('insert into truncate_probe values (1), (2)');
      await db.query('truncate truncate_probe');
    });
    const events = (
      await readTopic(home, reader.topic, decodeEvent, (es) => es.some((e) => e.operation === Operation.TRUNCATE))
    ).filter(isData);
    const truncate = events.find((e) => e.operation === Operation.TRUNCATE)!;
    expect(truncate.table).toBe('public.truncate_probe');
    expect(truncate.patterns).toEqual(['probe:*']);
    expect(truncate.tags).toEqual(['probes']);
  });

  it('decodes logical messages and outbox rows, and relays messages to the replica regions', async () => {
    const [homeReader, edgeReader] = [await started(home, 'msg'), await started(endpoints.regions[1]!, 'msg')];
    await withDb(home, async (db) => {
      await db.query('begin');
      await db.query("update users set name = 'with message' where id = 502");
      await db.query(`select pg_logical_emit_message(true, 'fabric', '{"keys":["derived:502"],"tags":["feed:7"]}')`);
      await db.query('commit');
      await db.query(`insert into fabric.outbox (payload) values ('{"keys":["outboxed:1"],"versions":["ver:feed"]}')`);
    });
    const message = (e: ReturnType<typeof decodeEvent>) => e.operation === Operation.MESSAGE;
    for (const reader of [homeReader, edgeReader]) {
      const events = (
        await readTopic(reader.region, reader.topic, decodeEvent, (es) => es.filter(message).length >= 2)
      ).filter(message);
      expect(events.map((e) => e.keys)).toEqual(expect.arrayContaining([['derived:502'], ['outboxed:1']]));
      expect(events.find((e) => e.keys[0] === 'derived:502')!.tags).toEqual(['feed:7']);
      expect(events.find((e) => e.keys[0] === 'outboxed:1')!.versions).toEqual(['ver:feed']);
    }
    // The home region applied the message directly and did not apply its own relay again.
    const homeMessages = (
      await readTopic(home, homeReader.topic, decodeEvent, (es) => es.filter(message).length >= 2)
    ).filter(message);
    expect(homeMessages.filter((e) => e.keys[0] === 'derived:502')).toHaveLength(1);
  });

  it('gives a non-transactional message no commit time, so it cannot pass for fresh work', async () => {
    const reader = await started(home, 'nontx');
    await withDb(home, (db) =>
      db.query(`select pg_logical_emit_message(false, 'fabric', '{"keys":["nontx:1"]}'),
                       pg_logical_emit_message(true, 'fabric', '{"keys":["tx:1"]}')`),
    );
    const byKey = (es: ReturnType<typeof decodeEvent>[], key: string) => es.find((e) => e.keys[0] === key);
    const events = await readTopic(
      home,
      reader.topic,
      decodeEvent,
      (es) => byKey(es, 'nontx:1') !== undefined && byKey(es, 'tx:1') !== undefined,
    );
    expect(byKey(events, 'nontx:1')!.primaryCommitTime).toBeUndefined();
    expect(byKey(events, 'tx:1')!.primaryCommitTime).toBeDefined();
  });

  it('sends a change no rule can render to the DLQ with the reason, and keeps going', async () => {
    const reader = await started(home, 'poison');
    await withDb(home, async (db) => {
      await db.query("insert into poison_probe values (1, 'x')");
      await db.query(`select pg_logical_emit_message(true, 'fabric', '{"keys": [42]}')`);
      await db.query("insert into users (id, team_id, name, email) values (503, 1, 'after poison', 'p@example')");
    });
    const dead = await readTopic(home, reader.dlqTopic, decodeDeadLetter, (ds) => ds.length >= 2);
    expect(dead[0]!.component).toBe('cdc-reader');
    expect(dead[0]!.table).toBe('public.poison_probe');
    expect(dead[0]!.reason).toContain('nope');
    expect(dead[0]!.reason).toContain('public.poison_probe');
    expect(JSON.parse(dead[0]!.change).newRow).toEqual({ id: '1', a: 'x' });
    expect(dead[1]!.reason).toMatch(/keys\[0\]/);
    const events = await readTopic(home, reader.topic, decodeEvent, (es) =>
      es.some((e) => e.keys.includes('user:503')),
    );
    expect(events.some((e) => e.keys.includes('user:503'))).toBe(true);
  });

  it('writes a heartbeat at the primary that every region turns into per-partition heartbeat events', async () => {
    const beating = await readerFor(home, {
      rules: rulesFile,
      name: 'beat',
      heartbeatMs: 200,
      extraArgs: ['--metrics-port', '27990'],
    });
    const edge = await readerFor(endpoints.regions[2]!, { rules: rulesFile, name: 'beat' });
    readers.push(beating, edge);
    await beating.start();
    await edge.start();
    const beats = await readTopic(
      edge.region,
      edge.topic,
      decodeEvent,
      (es) => es.filter((e) => e.operation === Operation.HEARTBEAT).length >= 6,
    );
    const heartbeats = beats.filter((e) => e.operation === Operation.HEARTBEAT);
    expect(heartbeats[0]!.table).toBe('fabric.heartbeat');
    expect(heartbeats[0]!.keys).toEqual([]);
    const metrics = await (await fetch('http://127.0.0.1:27990/metrics')).text();
    expect(metrics).toMatch(
      /fabric_cdc_events_total\{operation="HEARTBEAT",region="us-east",component="cdc-reader"\} [1-9]/,
    );
    expect(metrics).toMatch(/fabric_cdc_lag_bytes\{region="us-east",component="cdc-reader"\}/);
    expect(metrics).toMatch(/fabric_cdc_batch_size_count\{region="us-east",component="cdc-reader"\} [1-9]/);
    const health = await fetch('http://127.0.0.1:27990/healthz');
    expect(health.status).toBe(200);
    expect((await health.json()).confirmedLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(await beating.stop()).toBe(0);
  });
});
