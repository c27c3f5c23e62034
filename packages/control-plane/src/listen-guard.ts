import { isIP } from 'node:net';
import { ConfigError } from '@fabric/runtime';
import type { ControlPlaneConfig } from './config.js';

/**
 * Bearer tokens travel in every call's metadata: on a port others can reach, without TLS
 * anyone on the path reads an admin token and may replay dead letters or drop caches.
 * Loopback is the one place that is safe by construction; anywhere else takes TLS, or an
 * operator's explicit word that the network is trusted (a service mesh that encrypts, a
 * sandbox). Checked where the server starts, whatever built the configuration.
 */
export function assertListenSecure(config: Pick<ControlPlaneConfig, 'listen' | 'tls'>): void {
  const { host, allowInsecure } = config.listen;
  if (config.tls || allowInsecure || isLoopback(host)) return;
  throw new ConfigError(
    'listen.host',
    `"${host}" is reachable from the network and "tls" is not set, so bearer tokens would cross it in clear: ` +
      'give "tls" (cert, key), listen on 127.0.0.1, or set "listen": { "allowInsecure": true } if the network encrypts on its own',
  );
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}
