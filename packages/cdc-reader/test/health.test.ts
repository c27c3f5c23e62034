import { describe, expect, it } from 'vitest';
import { readerVerdict } from '../src/health.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const GRACE = 30_000;
/** What every verdict with a batch in flight carries, for pollers that judge it by their own threshold. */
const SINCE_T0 = { publisherUnacknowledgedSince: '2026-01-01T00:00:00.000Z' };

describe('readerVerdict', () => {
  it('is ok while streaming with nothing unacknowledged, or a batch within the grace period', () => {
    expect(readerVerdict({ stream: 'streaming', unacknowledged: undefined, graceMs: GRACE, now: T0 })).toEqual({
      ok: true,
    });
    const sending = { since: T0, failedAttempts: 3, lastError: 'broker unavailable' };
    expect(readerVerdict({ stream: 'streaming', unacknowledged: sending, graceMs: GRACE, now: T0 + GRACE })).toEqual({
      ok: true,
      ...SINCE_T0,
      publisherFailedAttempts: 3,
    });
  });

  it('says no at once while the stream is not streaming, naming the state', () => {
    const at = (stream: Parameters<typeof readerVerdict>[0]['stream']) =>
      readerVerdict({ stream, unacknowledged: undefined, graceMs: GRACE, now: T0 });
    expect(at('idle')).toEqual({ ok: false, detail: 'replication not started yet' });
    expect(at('starting')).toEqual({ ok: false, detail: 'replication starting' });
    expect(at('stopping')).toEqual({ ok: false, detail: 'replication stopping' });
    expect(at('closed')).toEqual({ ok: false, detail: 'replication stream closed' });
  });

  it('says no once one batch stays unacknowledged past the grace period, with the last error', () => {
    const sending = { since: T0, failedAttempts: 4, lastError: 'Connection error: connect ECONNREFUSED' };
    expect(readerVerdict({ stream: 'streaming', unacknowledged: sending, graceMs: GRACE, now: T0 + 31_000 })).toEqual({
      ok: false,
      detail:
        'kafka has not acknowledged a batch for 31 s (4 failed attempts, last: Connection error: connect ECONNREFUSED)',
      ...SINCE_T0,
      publisherFailedAttempts: 4,
    });
  });

  it('counts a send that hangs without failing like one that fails', () => {
    const hanging = { since: T0, failedAttempts: 0 };
    expect(readerVerdict({ stream: 'streaming', unacknowledged: hanging, graceMs: GRACE, now: T0 + 45_000 })).toEqual({
      ok: false,
      detail: 'kafka has not acknowledged a batch for 45 s (0 failed attempts)',
      ...SINCE_T0,
      publisherFailedAttempts: 0,
    });
  });

  it('gives every reason when more than one holds', () => {
    const sending = { since: T0, failedAttempts: 1, lastError: 'timeout' };
    expect(readerVerdict({ stream: 'stopping', unacknowledged: sending, graceMs: GRACE, now: T0 + 60_000 })).toEqual({
      ok: false,
      detail: 'replication stopping; kafka has not acknowledged a batch for 60 s (1 failed attempt, last: timeout)',
      ...SINCE_T0,
      publisherFailedAttempts: 1,
    });
  });
});
