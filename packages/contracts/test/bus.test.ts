import { describe, expect, it } from 'vitest';
import { type BusMessage, parseBusMessage, serializeBusMessage } from '../src/bus.js';
import { compareLsn, hex16ToLsn, lsnToHex16 } from '../src/lsn.js';

const message: BusMessage = {
  member: 'inv-1',
  topic: 'fabric.inval.eu-west',
  keys: ['user:1'],
  tags: ['team:7'],
  versions: ['ver:user:1'],
  patterns: [],
  flush: false,
  watermarks: { '0': '16/B374D848' },
  partitions: 3,
};

describe('bus contract', () => {
  it('round-trips a message, leaving empty fields out', () => {
    const text = serializeBusMessage(message);
    expect(text).not.toContain('patterns');
    expect(parseBusMessage(text)).toEqual({ ok: true, message });
  });

  it('reports what it cannot read instead of throwing', () => {
    expect(parseBusMessage('{').ok).toBe(false);
    expect(parseBusMessage('{"keys":[1]}')).toEqual({ ok: false, reason: 'keys is not a list of strings' });
    expect(parseBusMessage('{"watermarks":{"0":"nope"}}').ok).toBe(false);
  });

  it('stores LSNs so that string order is LSN order', () => {
    const lsns = ['0/FFFFFFFF', '1/0', '16/B374D848', 'A/1'];
    const hex = lsns.map(lsnToHex16);
    expect([...hex].sort()).toEqual([...lsns].sort(compareLsn).map(lsnToHex16));
    expect(hex.map(hex16ToLsn)).toEqual(lsns);
  });
});
