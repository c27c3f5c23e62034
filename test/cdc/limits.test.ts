import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type InvalidatorUnderTest, invalidatorFor } from '../invalidator/harness.js';
import { eventually, withDb } from '../support.js';
import { decodeDeadLetter, decodeEvent, Operation, type ReaderUnderTest, readerFor, readTopic } from './harness.js';

/**
 * What the broker refuses (a record batch above message.max.bytes, 1,048,588 bytes in the
 * sandbox) must never reach it: it would be refused on every retry while the slot waits.
 */
describe('byte limits between the reader and the broker', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  const rulesFile = path.join(endpoints.stateDir, 'limits-test-rules.yaml');
  const readers: ReaderUnderTest[] = [];
  const invalidators: InvalidatorUnderTest[] = [];
  let redis: Redis;

  beforeAll(async () => {
    writeFileSync(
      rulesFile,
      `version: 1
tables:
  public.users:
    keys: ["user:{id}"]
    recovery:
      patterns: ["user:*"]
`,
    );
    redis = new Redis(home.redis.url);
  });

  afterAll(async () => {
    await Promise.all([...readers.map((r) => r.dispose()), ...invalidators.map((i) => i.dispose())]);
    redis?.disconnect();
  });

  it('delivers a change of 9,000 keys of 120 bytes (~1.1 MB) in parts, and every key is invalidated', async () => {
    const reader = await readerFor(home, { rules: rulesFile, name: 'bigevent' });
    readers.push(reader);
    await reader.start();
    const inv = await invalidatorFor(home, { topic: reader.topic, name: 'bigevent' });
    invalidators.push(inv);
    await inv.start();

    const keys = Array.from({ length: 9000 }, (_, i) => `big:${String(i).padStart(5, '0')}:${'k'.repeat(110)}`);
    expect(new Set(keys.map((k) => Buffer.byteLength(k)))).toEqual(new Set([120]));
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      await redis.mset(...chunk.flatMap((k) => [k, 'cached']));
    }
    expect(await redis.exists(...keys)).toBe(9000);

    await withDb(home, (db) =>
      db.query("select pg_logical_emit_message(true, 'fabric', $1)", [JSON.stringify({ keys })]),
    );
    await eventually(
      'every key invalidated',
      async () => ((await redis.exists(...keys)) === 0 ? true : undefined),
      60_000,
    );

    const parts =
      // Parts of one change may sit on different partitions, so no part is "the last one":
      // read until every key has arrived.
      (
        await readTopic(
          home,
          reader.topic,
          decodeEvent,
          (es) => es.reduce((n, e) => n + (e.operation === Operation.MESSAGE ? e.keys.length : 0), 0) >= keys.length,
        )
      ).filter((e) => e.operation === Operation.MESSAGE);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flatMap((p) => p.keys).sort()).toEqual(keys);
    expect(new Set(parts.map((p) => p.sourceLsn)).size).toBe(1);
    expect(parts.map((p) => p.id.replace(/#\d+$/, ''))).toEqual(parts.map(() => parts[0]!.id.replace(/#\d+$/, '')));
  }, 120_000);

  it('publishes a commit of many large dead letters without MESSAGE_TOO_LARGE, and keeps a reference for a huge row', async () => {
    const reader = await readerFor(home, { rules: rulesFile, name: 'bigdlq' });
    readers.push(reader);
    await reader.start();
    const rows = 200;
    // Outbox rows the reader cannot take (an unknown field): each a dead letter carrying its
    // row, ~50 KB, 10 MB for the commit: ten times the broker's limit for one record batch.
    const bad = (pad: string) => `jsonb_build_object('keys', jsonb_build_array(42), 'pad', ${pad})`;
    let hugeId = '';
    await withDb(home, async (db) => {
      await db.query('begin');
      await db.query(
        `insert into fabric.outbox (payload) select ${bad('repeat(md5(g::text), 1600)')} from generate_series(1, $1) g`,
        [rows],
      );
      // One row beyond the dead-letter limit (2 MB): kept as a reference, not as the row.
      hugeId = (
        await db.query(`insert into fabric.outbox (payload) values (${bad("repeat(md5('huge'), 65536)")}) returning id`)
      ).rows[0].id;
      await db.query('commit');
      // After them, a change that must come through: the reader did not stall on the batch.
      await db.query(
        "insert into users (id, team_id, name, email) values (9101, 1, 'after big dlq', 'big@example') on conflict (id) do update set name = excluded.name",
      );
    });
    const letters = await readTopic(home, reader.dlqTopic, decodeDeadLetter, (ds) => ds.length >= rows + 1, 90_000);
    expect(letters).toHaveLength(rows + 1);
    const whole = letters.filter((d) => !JSON.parse(d.change).truncated);
    expect(whole).toHaveLength(rows);
    expect(whole.every((d) => JSON.parse(d.change).newRow.payload.length > 32 * 1600)).toBe(true);
    const [reference] = letters.filter((d) => JSON.parse(d.change).truncated);
    expect(JSON.parse(reference!.change)).toMatchObject({
      truncated: true,
      table: 'fabric.outbox',
      primaryKey: { id: hugeId },
    });
    expect(JSON.parse(reference!.change).changeBytes).toBeGreaterThan(2 * 1024 * 1024);
    await readTopic(home, reader.topic, decodeEvent, (es) => es.some((e) => e.keys.includes('user:9101')), 60_000);
    expect(reader.exitCode()).toBeNull();
  }, 150_000);
});
