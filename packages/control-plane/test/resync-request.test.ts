import { create, ResyncRequestSchema } from '@fabric/proto';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { RegionConfig } from '../src/config.js';
import { RegionDirectory } from '../src/regions.js';
import { MAX_RESYNC_REASON, operatorResync, planResync } from '../src/resync-request.js';
import type { RpcError } from '../src/rpc-error.js';

const regions = new RegionDirectory([
  { name: 'us-east', topic: 'fabric.inval.us-east' },
  { name: 'eu-west', topic: 'fabric.inval.eu-west' },
] as RegionConfig[]);

const request = (init: Parameters<typeof create<typeof ResyncRequestSchema>>[1]) => create(ResyncRequestSchema, init);

function refusal(init: Parameters<typeof request>[0]): RpcError {
  try {
    planResync(request(init), regions);
  } catch (err) {
    return err as RpcError;
  }
  throw new Error('the request was accepted');
}

describe('planResync', () => {
  it('takes a known region and a trimmed, optional reason', () => {
    expect(planResync(request({ region: 'eu-west', reason: '  restored from backup ' }), regions)).toMatchObject({
      region: { name: 'eu-west' },
      reason: 'restored from backup',
    });
    expect(planResync(request({ region: 'us-east' }), regions).reason).toBe('');
  });

  it('refuses a missing region with INVALID_ARGUMENT and an unknown one with NOT_FOUND, naming the field', () => {
    expect(refusal({ region: ' ' })).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: 'region: name the region to resync',
    });
    expect(refusal({ region: 'mars' })).toMatchObject({
      code: status.NOT_FOUND,
      message: 'region: unknown region "mars" (known: us-east, eu-west)',
    });
  });

  it(`accepts ${MAX_RESYNC_REASON} characters of reason, counted as characters, and refuses more`, () => {
    expect(
      planResync(request({ region: 'eu-west', reason: '€'.repeat(MAX_RESYNC_REASON) }), regions).reason,
    ).toHaveLength(MAX_RESYNC_REASON);
    expect(refusal({ region: 'eu-west', reason: 'x'.repeat(MAX_RESYNC_REASON + 1) })).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: `reason: at most ${MAX_RESYNC_REASON} characters, got ${MAX_RESYNC_REASON + 1}`,
    });
  });

  it('refuses a reason that is not one line', () => {
    expect(refusal({ region: 'eu-west', reason: 'line one\nline two' })).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: expect.stringMatching(/^reason: must be one line/),
    });
  });
});

describe('operatorResync', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  const plan = { region: { name: 'eu-west' } as RegionConfig, reason: 'restored from backup' };

  it('names the region, the moment and who asked, and why', () => {
    expect(operatorResync(plan, 'ops', now)).toEqual({
      id: `eu-west:resync:operator:${now.getTime()}`,
      detail: 'asked by ops: restored from backup',
    });
    expect(operatorResync({ ...plan, reason: '' }, 'ops', now).detail).toBe('asked by ops: no reason given');
  });
});
