import { create, type InvalidationEvent, InvalidationEventSchema, Operation, timestampFromMs } from '@fabric/proto';
import { leaseKey, staleKey, tagKey } from '@fabric/sdk';
import type { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ApplyTally } from '../src/apply-tally.js';
import { ClusterTopology } from '../src/cluster-topology.js';
import { batchCommandMix, countReply, HEARTBEAT_KEY, planCommands, tagsToExpand } from '../src/command-plan.js';
import { tombstoneLeases } from '../src/lease-revoke.js';
import { keySlot } from '../src/slot.js';
import { expandTagPage } from '../src/tag-script.js';
import { bumpVersions } from '../src/version-script.js';

const ev = (fields: Partial<InvalidationEvent>): InvalidationEvent =>
  create(InvalidationEventSchema, { id: `e${Math.random()}`, operation: Operation.UPDATE, ...fields });

describe('planCommands', () => {
  const events = [
    ev({ keys: ['a', 'b'], versions: ['ver:a'] }),
    ev({ keys: ['b', 'c'] }),
    ev({ operation: Operation.HEARTBEAT, primaryCommitTime: timestampFromMs(1_700_000_000_000) }),
  ];
  const keysByEvent = new Map([
    [0, new Set(['a', 'b'])],
    [1, new Set(['b', 'c'])],
  ]);

  it('on one slot: leases revoked first, then one UNLINK for values and one for stale copies, one version script, a SET per heartbeat', () => {
    const plan = planCommands({ events, keysByEvent, slotOf: () => 0, versionTtlMs: 60_000 });
    expect(plan.map((c) => [c.args, c.events])).toEqual([
      [
        ['unlink', leaseKey('a'), leaseKey('b'), leaseKey('c')],
        [0, 1],
      ],
      [
        ['unlink', 'a', 'b', 'c'],
        [0, 1],
      ],
      [
        ['unlink', staleKey('a'), staleKey('b'), staleKey('c')],
        [0, 1],
      ],
      [['evalsha', bumpVersions.sha, '1', 'ver:a', '60000'], [0]],
      [['set', HEARTBEAT_KEY, '1700000000000'], [2]],
    ]);
  });

  it("bumps a slot's version keys in one script call, each key once, remembering who named it", () => {
    const named = [ev({ versions: ['ver:x', 'ver:y'] }), ev({ versions: ['ver:y'] }), ev({ versions: ['ver:z'] })];
    const plan = planCommands({
      events: named,
      keysByEvent: new Map(named.map((_, i) => [i, new Set<string>()])),
      slotOf: () => 0,
      versionTtlMs: 5,
    });
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({
      args: ['evalsha', bumpVersions.sha, '3', 'ver:x', 'ver:y', 'ver:z', '5'],
      events: [0, 1, 2],
      perKey: [[0], [0, 1], [2]],
    });
    // A key's own error fails the events that named it, and only those.
    const tally = new ApplyTally(named);
    const wrongType = Object.assign(new Error('WRONGTYPE Operation against a key'), { name: 'ReplyError' });
    countReply(tally, plan[0]!, [1, wrongType, 1]);
    const result = tally.result();
    expect(result.versionsBumped).toBe(2);
    expect(result.failed.map((f) => [f.index, f.error.stage, (f.error.cause as Error).message])).toEqual([
      [0, 'incr', wrongType.message],
      [1, 'incr', wrongType.message],
    ]);
  });

  it('puts the first page of every inlined tag ahead of everything else, blaming the events that name it', () => {
    const plan = planCommands({
      events,
      keysByEvent,
      slotOf: () => 0,
      versionTtlMs: 1,
      tags: new Map([['team:1', [0, 1]]]),
      tagPageSize: 50,
    });
    expect(plan[0]).toMatchObject({
      args: ['evalsha', expandTagPage.sha, '1', tagKey('team:1'), '0', '50', '0'],
      events: [0, 1],
      stage: 'tag',
      count: 'tagPage',
      tag: 'team:1',
    });
    expect(plan.slice(1).map((c) => c.count)).toEqual([
      'leasesRevoked',
      'keysUnlinked',
      'staleDropped',
      'versionsBumped',
      'heartbeats',
    ]);
  });

  it('per slot in a cluster, blaming only the events whose keys are in that slot', () => {
    const plan = planCommands({ events, keysByEvent, slotOf: keySlot, versionTtlMs: 1 });
    const unlinks = plan.filter((c) => c.count === 'keysUnlinked');
    expect(unlinks).toHaveLength(new Set(['a', 'b', 'c'].map(keySlot)).size);
    for (const c of unlinks) for (const key of c.args.slice(1)) expect(keySlot(key)).toBe(c.slot);
    expect(unlinks.find((c) => c.args.includes('a'))!.events).toEqual([0]);
    expect(unlinks.find((c) => c.args.includes('b'))!.events).toEqual([0, 1]);
  });

  it('skips events the tally dropped (failed while expanding), but not their heartbeats', () => {
    const plan = planCommands({
      events,
      keysByEvent: new Map([[1, new Set(['c'])]]),
      slotOf: () => 0,
      versionTtlMs: 1,
    });
    expect(plan.map((c) => c.args[0])).toEqual(['unlink', 'unlink', 'unlink', 'set']);
  });

  it('with a fill tombstone, overwrites the leases by script instead of deleting them', () => {
    const plan = planCommands({ events, keysByEvent, slotOf: () => 0, versionTtlMs: 1, fillTombstoneMs: 250 });
    expect(plan[0]!.args).toEqual([
      'evalsha',
      tombstoneLeases.sha,
      '3',
      leaseKey('a'),
      leaseKey('b'),
      leaseKey('c'),
      '250',
    ]);
    expect(plan[0]!.count).toBe('leasesRevoked');
  });
});

describe('ClusterTopology', () => {
  it('sends one pipeline per slot', () => {
    const topology = new ClusterTopology({} as Cluster);
    const plan = planCommands({
      events: [ev({ keys: ['{x}1', '{x}2', '{y}1'] })],
      keysByEvent: new Map([[0, new Set(['{x}1', '{x}2', '{y}1'])]]),
      slotOf: (key) => topology.slotOf(key),
      versionTtlMs: 1,
    });
    const pipelines = topology.pipelines(plan);
    expect(pipelines).toHaveLength(2);
    for (const p of pipelines) expect(new Set(p.map((c) => c.slot)).size).toBe(1);
  });
});

describe('ApplyTally', () => {
  it('keeps the first failure of an event and drops its keys from the plan', () => {
    const events = [ev({ id: 'one' }), ev({ id: 'two' })];
    const tally = new ApplyTally(events);
    tally.addKeys(0, ['k0']);
    tally.addKeys(1, ['k1']);
    tally.addKeys(1, ['m1']);
    tally.fail(1, 'tag', new Error('first'));
    tally.fail(1, 'unlink', new Error('second'));
    tally.add('keysUnlinked', 3);
    expect([...tally.pending()]).toEqual([[0, new Set(['k0'])]]);
    const result = tally.result();
    expect(result.keysUnlinked).toBe(3);
    expect(result.failed.map((f) => [f.index, f.eventId, f.error.stage, (f.error.cause as Error).message])).toEqual([
      [1, 'two', 'tag', 'first'],
    ]);
  });
});

describe('tagsToExpand', () => {
  it('names each tag of a batch once, with every event asking for it, heartbeats left out', () => {
    const events = [
      ev({ tags: ['team:1', 'team:2'] }),
      ev({ tags: ['team:1'] }),
      ev({ operation: Operation.HEARTBEAT, tags: ['team:1'] }),
      ev({ tags: ['team:2', 'team:2'] }),
    ];
    expect([...tagsToExpand(events)]).toEqual([
      ['team:1', [0, 1]],
      ['team:2', [0, 3]],
    ]);
  });

  it("gives the bench the applier's own pipeline: one tag page per distinct tag first", () => {
    const events = [ev({ keys: ['user:1'], tags: ['t'] }), ev({ keys: ['user:2'], tags: ['t'] })];
    const mix = batchCommandMix(events, { versionTtlMs: 60_000, fillTombstoneMs: 0 });
    expect(mix.filter((c) => c[0] === 'evalsha')).toHaveLength(1);
    expect(mix.slice(1)).toEqual([
      ['unlink', leaseKey('user:1'), leaseKey('user:2')],
      ['unlink', 'user:1', 'user:2'],
      ['unlink', staleKey('user:1'), staleKey('user:2')],
    ]);
  });
});
