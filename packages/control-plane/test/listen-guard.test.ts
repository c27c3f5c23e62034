import { describe, expect, it } from 'vitest';
import { assertListenSecure, isLoopback } from '../src/listen-guard.js';

const tls = { cert: 'c', key: 'k', clientCa: undefined };

describe('assertListenSecure', () => {
  it('lets loopback, TLS, or an explicit allowInsecure through', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(host)).toBe(true);
    expect(() => assertListenSecure({ listen: { host: '127.0.0.1', port: 1 }, tls: undefined })).not.toThrow();
    expect(() => assertListenSecure({ listen: { host: '0.0.0.0', port: 1 }, tls })).not.toThrow();
    expect(() =>
      assertListenSecure({ listen: { host: '0.0.0.0', port: 1, allowInsecure: true }, tls: undefined }),
    ).not.toThrow();
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', 'cp.example.internal'])(
    'refuses %s without TLS, naming listen.host and the fix',
    (host) => {
      expect(() => assertListenSecure({ listen: { host, port: 1 }, tls: undefined })).toThrow(
        /^listen\.host: .*give "tls" \(cert, key\), listen on 127\.0\.0\.1, or set "listen": \{ "allowInsecure": true \}/,
      );
    },
  );
});
