import { describe, expect, it } from 'vitest';
import { ChangeMapper } from '../src/change-mapper.js';
import type { PgoutputMessage } from '../src/pgoutput/index.js';
import { parseKeyRules } from '../src/rules/index.js';

const rules = parseKeyRules(
  'version: 1\ntables:\n  public.users:\n    keys: ["user:{id}"]\n    recovery:\n      patterns: ["user:*"]\n',
  'test.yaml',
);
const heartbeat = (primaryLsn: string | null) =>
  ({
    tag: 'update',
    relation: {
      id: 1,
      schema: 'fabric',
      name: 'heartbeat',
      replicaIdentity: 'f',
      columns: ['id', 'beat_at', 'seq', 'primary_lsn'].map((name) => ({ name, typeOid: 25, isKey: true })),
    },
    newTuple: { values: { id: '1', beat_at: 't', seq: '2', primary_lsn: primaryLsn }, unchangedToast: [] },
  }) satisfies PgoutputMessage;

describe('primary LSNs on events (read-your-writes watermarks)', () => {
  it('a region decoding the primary WAL gives every event its commit LSN', () => {
    const mapper = new ChangeMapper(
      rules,
      'us-east',
      false,
      () => new Date(0),
      () => {},
      true,
    );
    const [out] = mapper.map(heartbeat('0/10'), { finalLsn: '0/20', index: 0 });
    expect(out?.kind === 'heartbeat' && out.event.primaryLsn).toBe('0/20');
  });

  it('a logical replica takes it from the heartbeat row, and gives none when the row has none', () => {
    const mapper = new ChangeMapper(
      rules,
      'eu-west',
      false,
      () => new Date(0),
      () => {},
      false,
    );
    const [out] = mapper.map(heartbeat('0/10'), { finalLsn: '5/20', index: 0 });
    expect(out?.kind === 'heartbeat' && out.event.primaryLsn).toBe('0/10');
    const [old] = mapper.map(heartbeat(null), { finalLsn: '5/30', index: 0 });
    expect(old?.kind === 'heartbeat' && old.event.primaryLsn).toBe('');
  });
});
