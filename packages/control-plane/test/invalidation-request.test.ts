import { eventKey } from '@fabric/contracts';
import { create, InvalidateRequestSchema, InvalidationEventSchema, Operation } from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { RegionConfig } from '../src/config.js';
import { MAX_TARGETS, manualEvents, planInvalidation } from '../src/invalidation-request.js';
import { RegionDirectory } from '../src/regions.js';
import type { RpcError } from '../src/rpc-error.js';

const regions = new RegionDirectory(
  ['us-east', 'eu-west'].map((name, i) => ({ name, home: i === 0, topic: `fabric.inval.${name}` }) as RegionConfig),
);
const request = (init: Parameters<typeof create<typeof InvalidateRequestSchema>>[1]) =>
  create(InvalidateRequestSchema, init);

function refusal(init: Parameters<typeof request>[0]): RpcError {
  try {
    planInvalidation(request(init), regions);
  } catch (err) {
    return err as RpcError;
  }
  throw new Error('accepted');
}

describe('planInvalidation', () => {
  it('keeps targets in request order: keys, tags, patterns', () => {
    const plan = planInvalidation(
      request({ regions: ['eu-west', 'us-east'], keys: ['user:1'], tags: ['team:7'], patterns: ['session:*'] }),
      regions,
    );
    expect(plan.regions.map((r) => r.name)).toEqual(['eu-west', 'us-east']);
    expect(plan.targets).toEqual([
      { kind: 'key', value: 'user:1' },
      { kind: 'tag', value: 'team:7' },
      { kind: 'pattern', value: 'session:*' },
    ]);
  });

  it.each([
    [{ keys: ['k'] }, status.INVALID_ARGUMENT, 'regions: name at least one region'],
    [
      { regions: ['us-east', 'mars'], keys: ['k'] },
      status.NOT_FOUND,
      'regions[1]: unknown region "mars" (known: us-east, eu-west)',
    ],
    [
      { regions: ['us-east', 'us-east'], keys: ['k'] },
      status.INVALID_ARGUMENT,
      'regions[1]: "us-east" is listed twice',
    ],
    [{ regions: ['us-east'] }, status.INVALID_ARGUMENT, 'keys: give at least one key, tag or pattern'],
    [{ regions: ['us-east'], keys: ['a', ' '] }, status.INVALID_ARGUMENT, 'keys[1]: must not be empty'],
    [
      { regions: ['us-east'], tags: ['x'.repeat(1025)] },
      status.INVALID_ARGUMENT,
      'tags[0]: longer than 1024 characters',
    ],
    [
      { regions: ['us-east'], patterns: ['user:*', '*'] },
      status.INVALID_ARGUMENT,
      'patterns[1]: "*" has no literal prefix',
    ],
    [{ regions: ['us-east'], patterns: ['?*[a-z]'] }, status.INVALID_ARGUMENT, 'patterns[0]'],
    // Literal characters after a leading wildcard still match keys of every kind, ver:* included.
    [{ regions: ['us-east'], patterns: ['*:*'] }, status.INVALID_ARGUMENT, 'patterns[0]: "*:*" has no literal prefix'],
    [{ regions: ['us-east'], patterns: ['*e*'] }, status.INVALID_ARGUMENT, 'patterns[0]: "*e*" has no literal prefix'],
    [
      { regions: ['us-east'], keys: Array.from({ length: MAX_TARGETS + 1 }, (_, i) => `k${i}`) },
      status.INVALID_ARGUMENT,
      `at most ${MAX_TARGETS}`,
    ],
  ])('refuses %j', (init, code, message) => {
    const err = refusal(init);
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });

  it('allows a wildcard-only pattern with force, and says so in its event', () => {
    const plan = planInvalidation(request({ regions: ['us-east'], patterns: ['*'], force: true }), regions);
    expect(plan.targets).toEqual([{ kind: 'pattern', value: '*' }]);
    expect(manualEvents(plan, 'us-east', 'f', new Date()).map((e) => e.event.force)).toEqual([true]);
  });
});

describe('manualEvents', () => {
  it('makes one MANUAL event per target with numbered ids, the target as Kafka key and now as times', () => {
    const now = new Date('2024-05-01T12:00:00.250Z');
    const plan = planInvalidation(
      request({ regions: ['eu-west'], keys: ['user:1'], tags: ['team:7'], patterns: ['s:*'] }),
      regions,
    );
    const events = manualEvents(plan, 'eu-west', 'abc', now);
    expect(events.map((e) => e.key)).toEqual(['user:1', 'team:7', 's:*']);
    expect(events.map((e) => e.event.id)).toEqual(['manual:abc:0', 'manual:abc:1', 'manual:abc:2']);
    expect(events[1]!.event).toMatchObject({
      region: 'eu-west',
      operation: Operation.MANUAL,
      keys: [],
      tags: ['team:7'],
      patterns: [],
    });
    expect(events[2]!.event.patterns).toEqual(['s:*']);
    expect(events.map((e) => e.event.force)).toEqual([false, false, false]);
    expect(events[0]!.event.primaryCommitTime).toEqual(events[0]!.event.emittedTime);
    expect(
      Number(events[0]!.event.primaryCommitTime!.seconds) * 1000 + events[0]!.event.primaryCommitTime!.nanos! / 1e6,
    ).toBe(now.getTime());
  });
  it('keys each event as a replay of it would be keyed, so a replayed manual event joins its partition', () => {
    const plan = planInvalidation(
      request({ regions: ['eu-west'], keys: ['user:1'], tags: ['team:7'], patterns: ['s:*'] }),
      regions,
    );
    for (const e of manualEvents(plan, 'eu-west', 'abc', new Date()))
      expect(eventKey(create(InvalidationEventSchema, e.event))).toBe(e.key);
  });
});
