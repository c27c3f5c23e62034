import type { RegionEndpoints } from '@fabric/sandbox';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, withDb } from '../support.js';
import {
  DEMO_RULES,
  decodeDeadLetter,
  decodeEvent,
  isData,
  type ReaderUnderTest,
  readerFor,
  readTopic,
} from './harness.js';

// A logical message JSON accepts but PostgreSQL's jsonb refuses (U+0000) used to reach the
// home reader's relay (`insert ... $1::jsonb`) with logical replicas: the insert failed, the
// reader exited before confirming, replayed the same message, and crash-looped for good,
// stopping the region. Now it is a dead letter with the reason and the region goes on.

let home: RegionEndpoints;
let reader: ReaderUnderTest;

beforeAll(async () => {
  home = inject('endpoints').regions.find((r) => r.home)!;
  // The relay runs at home with logical replicas; the last --replication wins.
  reader = await readerFor(home, { rules: DEMO_RULES, name: 'badjson', extraArgs: ['--replication', 'logical'] });
  await reader.start();
});

afterAll(async () => {
  await reader?.dispose();
});

describe('an explicit invalidation jsonb cannot hold', () => {
  it('goes to the dead letters with the reason; the reader relays and applies the next one', async () => {
    const emit = (text: string) =>
      withDb(home, (db) => db.query("select pg_logical_emit_message(true, 'fabric', $1)", [text]));
    await emit(String.raw`{"keys":["bad:\u0000"]}`);
    await emit('{ "keys": ["after-bad", "after-bad"] }');

    const letters = await readTopic(home, reader.dlqTopic, decodeDeadLetter, (all) => all.length >= 1);
    expect(letters[0]!.reason).toMatch(/keys\[0\] contains U\+0000/);
    const events = await readTopic(home, reader.topic, decodeEvent, (all) =>
      all.some((e) => isData(e) && e.keys.includes('after-bad')),
    );
    expect(events.filter(isData).flatMap((e) => e.keys)).toEqual(['after-bad']);
    // Relayed as the reader understood it, re-serialised; the bad one was never relayed.
    const relayed = await eventually('the good message relayed', () =>
      withDb(home, async (db) => {
        const { rows } = await db.query(
          `select payload::text as payload from fabric.outbox
            where relayed_from like $1 and payload::text like '%after-bad%'`,
          [`${home.region}:%`],
        );
        return rows[0]?.payload as string | undefined;
      }),
    );
    expect(JSON.parse(relayed)).toEqual({ keys: ['after-bad'], tags: [], versions: [] });
    expect(reader.exitCode()).toBeNull();
  });
});
