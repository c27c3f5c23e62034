import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpCut } from '../src/sdk/tcp-cut.js';

/** An echo server standing in for Redis. */
async function echo(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function connect(url: string): Promise<net.Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => resolve(s));
    s.once('error', reject);
  });
}

const roundTrip = (s: net.Socket, text: string): Promise<string> =>
  new Promise((resolve) => {
    s.once('data', (d) => resolve(d.toString()));
    s.write(text);
  });

const closed = (s: net.Socket): Promise<void> => new Promise((r) => s.once('close', () => r()));

describe('TcpCut', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('proxies, drops every connection on a cut and refuses new ones until the window ends', async () => {
    const upstream = await echo();
    let now = 0;
    const cut = new TcpCut({ host: '127.0.0.1', port: upstream.port }, () => now);
    const url = await cut.start();
    cleanups.push(() => cut.stop(), upstream.close);

    const a = await connect(url);
    expect(await roundTrip(a, 'ping')).toBe('ping');
    const aClosed = closed(a);
    cut.cut(100);
    await aClosed;

    const refused = await connect(url);
    await closed(refused); // accepted by the OS, destroyed by the proxy inside the window

    now = 100;
    const b = await connect(url);
    expect(await roundTrip(b, 'again')).toBe('again');
    b.destroy();
  });
});
