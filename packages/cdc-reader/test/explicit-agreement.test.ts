import { MAX_EXPLICIT_ENTRIES, MAX_EXPLICIT_PAYLOAD_BYTES } from '@fabric/contracts';
import { type ExplicitInvalidation, emitInvalidation, explicitPayload } from '@fabric/sdk';
import type { ClientBase } from 'pg';
import { describe, expect, it } from 'vitest';
import { ChangeMapper } from '../src/change-mapper.js';
import type { PgoutputMessage } from '../src/pgoutput/index.js';
import { parseKeyRules } from '../src/rules/index.js';

// The SDK promises to refuse exactly what the reader would dead-letter. Both sides get the
// same payloads here: the SDK through emitInvalidation, the reader through the logical
// message or outbox row that call would have written.
const many = (n: number) => Array.from({ length: n }, (_, i) => `k:${i}`);
const payloads: Array<[string, ExplicitInvalidation]> = [
  ['keys and tags', { keys: ['user:1'], tags: ['team:7'] }],
  ['only version keys', { versions: ['ver:user:1'] }],
  ['a repeated key', { keys: ['a', 'a'] }],
  ['nothing', {}],
  ['only empty lists', { keys: [], tags: [] }],
  ['an empty key', { keys: ['a', ''] }],
  ['a number', { versions: [1 as unknown as string] }],
  ['a null tag', { tags: [null as unknown as string] }],
  ['a string instead of a list', { keys: 'user:1' as unknown as string[] }],
  ['exactly the entry limit', { keys: many(MAX_EXPLICIT_ENTRIES - 1), tags: ['t'] }],
  ['one entry over the limit', { keys: many(MAX_EXPLICIT_ENTRIES), tags: ['t'] }],
  ['a payload above the byte limit', { keys: [`k:${'x'.repeat(MAX_EXPLICIT_PAYLOAD_BYTES)}`] }],
];

const mapper = new ChangeMapper(
  parseKeyRules(
    'version: 1\ntables:\n  public.users:\n    keys: ["user:{id}"]\n    recovery:\n      patterns: ["user:*"]\n',
    'test.yaml',
  ),
  'eu-west',
  false,
);
const outbox = {
  id: 1,
  schema: 'fabric',
  name: 'outbox',
  replicaIdentity: 'f' as const,
  columns: ['id', 'payload', 'relayed_from'].map((name) => ({ name, typeOid: 25, isKey: true })),
};

/** What the reader makes of the JSON the SDK writes, by either route. */
function readerOutcome(json: string, mode: 'message' | 'outbox'): string[] {
  const msg: PgoutputMessage =
    mode === 'message'
      ? { tag: 'message', transactional: true, lsn: '0/99', prefix: 'fabric', content: Buffer.from(json) }
      : {
          tag: 'insert',
          relation: outbox,
          newTuple: { values: { id: '7', payload: json, relayed_from: null }, unchangedToast: [] },
        };
  return mapper.map(msg, { finalLsn: '0/1', commitTime: new Date(), index: 0 }).map((o) => o.kind);
}

async function sdkOutcome(inv: ExplicitInvalidation, mode: 'message' | 'outbox'): Promise<'written' | 'refused'> {
  const written: unknown[][] = [];
  const client = { query: async (_text: string, values: unknown[]) => void written.push(values) };
  try {
    await emitInvalidation(client as unknown as ClientBase, inv, mode);
  } catch {
    expect(written).toEqual([]);
    return 'refused';
  }
  expect(written).toEqual([[explicitPayload(inv)]]);
  return 'written';
}

describe('explicit invalidations: the SDK and the reader agree', () => {
  it.each(payloads)('on %s', async (_what, inv) => {
    for (const mode of ['message', 'outbox'] as const) {
      const reader = readerOutcome(explicitPayload(inv), mode);
      const sdk = await sdkOutcome(inv, mode);
      expect(reader, mode).toEqual(sdk === 'written' ? ['event'] : ['dead-letter']);
    }
  });

  it('covers both answers', async () => {
    const answers = await Promise.all(payloads.map(([, inv]) => sdkOutcome(inv, 'message')));
    expect(new Set(answers)).toEqual(new Set(['written', 'refused']));
  });
});
