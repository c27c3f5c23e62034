import { describe, expect, it } from 'vitest';
import { KeepaliveGate } from '../../src/pgoutput/index.js';

function gate() {
  const delivered: string[] = [];
  return { g: new KeepaliveGate((w) => delivered.push(w)), delivered };
}

describe('KeepaliveGate', () => {
  it('delivers at once when everything received has been handled and no transaction is open', () => {
    const { g, delivered } = gate();
    g.onKeepalive('0/10');
    expect(delivered).toEqual(['0/10']);
  });

  it('holds a keepalive back until the messages received before it are handled', () => {
    const { g, delivered } = gate();
    for (let i = 0; i < 3; i++) g.onReceived(); // begin, insert, commit queued behind a slow handler
    g.onKeepalive('0/100');
    expect(delivered).toEqual([]);
    g.onHandled('begin');
    g.onHandled('insert');
    expect(delivered).toEqual([]);
    g.onHandled('commit');
    expect(delivered).toEqual(['0/100']);
  });

  it('does not wait for messages received after the keepalive', () => {
    const { g, delivered } = gate();
    g.onReceived();
    g.onKeepalive('0/20');
    g.onReceived();
    g.onReceived();
    g.onHandled('message');
    expect(delivered).toEqual(['0/20']);
  });

  it('drops a keepalive whose point falls inside a transaction', () => {
    const { g, delivered } = gate();
    g.onReceived();
    g.onHandled('begin');
    g.onKeepalive('0/30'); // between BEGIN and COMMIT
    g.onReceived();
    g.onHandled('commit');
    expect(delivered).toEqual([]);
    expect(g.insideTransaction).toBe(false);
    g.onKeepalive('0/40');
    expect(delivered).toEqual(['0/40']);
  });

  it('lets a newer keepalive replace one still held back', () => {
    const { g, delivered } = gate();
    g.onReceived();
    g.onKeepalive('0/50');
    g.onReceived();
    g.onKeepalive('0/60');
    g.onHandled('relation');
    expect(delivered).toEqual([]);
    g.onHandled('message');
    expect(delivered).toEqual(['0/60']);
    expect([g.received, g.handled]).toEqual([2, 2]);
  });
});
