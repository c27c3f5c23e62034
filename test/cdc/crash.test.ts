import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { withDb } from '../support.js';
import { decodeEvent, isData, type ReaderUnderTest, readerFor, readTopic } from './harness.js';

const CHANGES = 10_000;
const PER_TXN = 5;
const FIRST_ID = 2_000_001;

/**
 * At-least-once under crashes: the reader is killed with SIGKILL at random moments
 * while changes commit at the primary, and restarted each time. Every committed change
 * must be in the topic afterwards (duplicates allowed, loss not).
 */
describe('cdc reader crash safety', () => {
  const endpoints = inject('endpoints');
  const home = endpoints.regions.find((r) => r.home)!;
  let reader: ReaderUnderTest;

  afterAll(() => reader?.dispose());

  it(`loses no committed change across kill -9 during ${CHANGES} changes`, async () => {
    reader = await readerFor(home, { name: 'crash' });
    await reader.start();

    let committed = 0;
    const writer = withDb(home, async (db) => {
      for (let id = FIRST_ID; id < FIRST_ID + CHANGES; id += PER_TXN) {
        const ids = Array.from({ length: PER_TXN }, (_, i) => id + i);
        await db.query(
          `insert into products (id, sku, name, price_cents) select g, 'crash-' || g, 'crash item', 1 from unnest($1::bigint[]) g`,
          [ids],
        );
        committed += PER_TXN;
        // About 2,500 changes/s, so the stream lasts long enough to be killed several times.
        if (committed % 100 === 0) await sleep(40);
      }
    });

    const kills: number[] = [];
    while (committed < CHANGES) {
      await sleep(300 + Math.random() * 900);
      await reader.kill('SIGKILL');
      kills.push(committed);
      await reader.start();
    }
    await writer;
    expect(kills.length).toBeGreaterThanOrEqual(3);

    const expected = new Set(Array.from({ length: CHANGES }, (_, i) => `product:${FIRST_ID + i}`));
    const seen = new Set<string>();
    let events = 0;
    await readTopic(
      home,
      reader.topic,
      decodeEvent,
      (batch) => {
        for (const e of batch.slice(events)) if (isData(e)) e.keys.forEach((k) => seen.add(k));
        events = batch.length;
        return [...expected].every((k) => seen.has(k));
      },
      120_000,
    );
    const missing = [...expected].filter((k) => !seen.has(k));
    expect(missing).toEqual([]);
    process.stderr.write(
      `[crash] ${kills.length} kills at ${kills.join(', ')} committed changes; ${events} events for ${CHANGES} changes\n`,
    );
  });
});
