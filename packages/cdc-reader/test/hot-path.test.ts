// The reader's per-change path, end to end without a database or broker: every published
// value is the event's exact protobuf encoding, and the reflective toBinary is not on that
// path (it was twice per change: once for the limits' size check, once for the value).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as proto from '@fabric/proto';
import { fromBinary, InvalidationEventSchema } from '@fabric/proto';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { parseReaderConfig } from '../src/config.js';
import { ReaderMetrics } from '../src/metrics.js';
import type { Relation } from '../src/pgoutput/index.js';
import type { OutgoingMessage } from '../src/publisher.js';
import { CdcReader } from '../src/reader.js';
import { parseKeyRules } from '../src/rules/index.js';

vi.mock('@fabric/proto', async (original) => {
  const actual = await original<typeof import('@fabric/proto')>();
  return { ...actual, toBinary: vi.fn(actual.toBinary) };
});

const rules = parseKeyRules(
  readFileSync(path.resolve(import.meta.dirname, '../../../deploy/key-rules.demo.yaml'), 'utf8'),
  'key-rules.demo.yaml',
);

const users: Relation = {
  id: 16384,
  schema: 'public',
  name: 'users',
  replicaIdentity: 'f',
  columns: ['id', 'team_id', 'name', 'email', 'avatar_url', 'bio'].map((name) => ({
    name,
    typeOid: 25,
    isKey: name === 'id',
  })),
};

const row = (id: number, name: string) => ({
  values: { id: String(id), team_id: String(id % 7), name, email: `u${id}@example.com`, avatar_url: null, bio: null },
  unchangedToast: [],
});

describe('the reader hot path', () => {
  it('publishes every change with the hand encoding, never the reflective toBinary', async () => {
    const config = parseReaderConfig([
      ...['--region', 'us-east', '--postgres', 'postgres://u@h/db', '--kafka', 'h:9092'],
      ...['--rules', 'demo.yaml', '--continuity', 'off', '--heartbeat-ms', '0', '--linger-ms', '0'],
    ])!;
    const sent: OutgoingMessage[] = [];
    let handler!: Parameters<ConstructorParameters<typeof CdcReader>[0]['stream']['start']>[0];
    const stream = {
      start: async (h: typeof handler) => {
        handler = h;
      },
      stop: async () => {},
      confirm: () => {},
      stats: () => ({ state: 'streaming' }),
    } as unknown as ConstructorParameters<typeof CdcReader>[0]['stream'];
    const reader = new CdcReader({
      config,
      rules,
      logger: pino({ level: 'silent' }),
      metrics: new ReaderMetrics('us-east'),
      pool: {} as never,
      stream,
      send: async (messages) => {
        sent.push(...messages);
      },
      partitions: 3,
      confirm: () => {},
    });
    await reader.start();
    const changes = 200;
    for (let i = 1; i <= changes; i++) {
      const lsn = `0/${(0x1000 + i * 0x100).toString(16).toUpperCase()}`;
      await handler(lsn, { tag: 'begin', finalLsn: lsn, commitTime: new Date(), commitTimeMicros: 0n, xid: i });
      await handler(lsn, {
        tag: 'update',
        relation: users,
        oldKind: 'O',
        oldTuple: row(i, `old ${i}`),
        newTuple: row(i, `new ${i}`),
      });
      await handler(lsn, {
        tag: 'commit',
        flags: 0,
        commitLsn: lsn,
        endLsn: lsn,
        commitTime: new Date(),
        commitTimeMicros: 0n,
      });
    }
    await reader.stop();

    expect(sent).toHaveLength(changes);
    for (const m of sent) {
      const event = fromBinary(InvalidationEventSchema, m.value);
      expect(Buffer.from(m.value).toString('hex')).toBe(
        Buffer.from(proto.toBinary(InvalidationEventSchema, event)).toString('hex'),
      );
      expect(event.keys).toContain(m.key);
    }
    // The checks above called toBinary themselves, once per message; the reader never did.
    expect(vi.mocked(proto.toBinary)).toHaveBeenCalledTimes(changes);
  });
});
