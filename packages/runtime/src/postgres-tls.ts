import { ConfigError } from './config-error.js';

/**
 * libpq's sslmode values that node-postgres can honour. `prefer` and `allow` are not among
 * them: node-postgres never falls back from one to the other, so either would be `require`
 * under another name.
 */
export const POSTGRES_SSLMODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type PostgresSslMode = (typeof POSTGRES_SSLMODES)[number];

/**
 * A PostgreSQL URL with its TLS settings inside it, so every connection made from it (the
 * reader's queries, its replication stream, the control plane's probes) carries them: the
 * URL is the one thing all of them are given. `sslmode` and `ca` (a file path) may already
 * be in the URL (`?sslmode=verify-full&sslrootcert=/etc/ca.pem`) or come from flags, which win.
 *
 * `uselibpqcompat=true` makes node-postgres read sslmode as PostgreSQL documents it:
 * `require` encrypts without verifying, `verify-ca` checks the chain, `verify-full` the
 * chain and the host name. Without it node-postgres treats all three as verify-full.
 */
export function postgresUrlWithTls(
  at: string,
  url: string,
  opts: { sslmode?: string; ca?: string; caAt?: string } = {},
): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(at, 'is not a URL; expected postgres://[user[:password]@]host[:port]/database');
  }
  if (opts.sslmode !== undefined) parsed.searchParams.set('sslmode', opts.sslmode);
  if (opts.ca !== undefined) parsed.searchParams.set('sslrootcert', opts.ca);
  const sslmode = parsed.searchParams.get('sslmode');
  const ca = parsed.searchParams.get('sslrootcert');
  if (sslmode === null) {
    if (ca !== null) throw new ConfigError(opts.caAt ?? at, 'a CA needs an sslmode: verify-full (or verify-ca)');
    return url;
  }
  if (!POSTGRES_SSLMODES.includes(sslmode as PostgresSslMode))
    throw new ConfigError(at, `sslmode must be one of ${POSTGRES_SSLMODES.join(', ')}, got "${sslmode}"`);
  if (sslmode === 'verify-ca' && ca === null)
    throw new ConfigError(opts.caAt ?? at, 'sslmode verify-ca needs the CA that signed the server certificate');
  if (sslmode === 'disable' && ca !== null)
    throw new ConfigError(opts.caAt ?? at, 'a CA is given but sslmode is disable: drop one of them');
  parsed.searchParams.set('uselibpqcompat', 'true');
  return parsed.toString();
}
