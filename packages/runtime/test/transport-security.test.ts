import { describe, expect, it } from 'vitest';
import { parseKafkaSecurity } from '../src/kafka-security.js';
import { postgresUrlWithTls } from '../src/postgres-tls.js';
import { redact } from '../src/redact.js';

const files: Record<string, string> = { ca: 'CA', cert: 'CERT', key: 'KEY', pw: 'secret\n' };
const readFile = (f: string) => {
  if (!(f in files)) throw new Error('ENOENT');
  return files[f]!;
};

describe('parseKafkaSecurity', () => {
  it('is plaintext with nothing given, TLS with a CA, SCRAM with a password from a file', () => {
    expect(parseKafkaSecurity({}, {}, readFile)).toEqual({});
    expect(
      parseKafkaSecurity(
        { 'kafka-ca': 'ca', 'kafka-sasl': 'scram-sha-512', 'kafka-username': 'u', 'kafka-password-file': 'pw' },
        {},
        readFile,
      ),
    ).toEqual({ tls: { ca: 'CA' }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'secret' } });
    expect(
      parseKafkaSecurity(
        { 'kafka-sasl': 'scram-sha-256' },
        { FABRIC_KAFKA_USERNAME: 'u', FABRIC_KAFKA_PASSWORD: 'p' },
        readFile,
      ),
    ).toEqual({ sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } });
  });

  it.each([
    [{ 'kafka-sasl': 'gssapi' }, '--kafka-sasl: must be one of scram-sha-256, scram-sha-512, plain, got "gssapi"'],
    [{ 'kafka-sasl': 'scram-sha-256' }, '--kafka-username: is required with --kafka-sasl scram-sha-256'],
    [
      { 'kafka-sasl': 'plain', 'kafka-username': 'u', 'kafka-password-file': 'pw' },
      '--kafka-sasl: plain sends the password in clear',
    ],
    [{ 'kafka-username': 'u' }, '--kafka-sasl: is required with a Kafka username or password'],
    [{ 'kafka-cert': 'cert' }, '--kafka-key: mTLS needs both --kafka-cert and --kafka-key'],
    [{ 'kafka-tls': 'off', 'kafka-ca': 'ca' }, '--kafka-tls: is off, yet --kafka-ca'],
    [{ 'kafka-ca': 'missing' }, '--kafka-ca: cannot read missing'],
  ])('refuses %j naming the flag', (values, message) => {
    expect(() => parseKafkaSecurity(values, {}, readFile)).toThrow(message);
  });
});

describe('postgresUrlWithTls', () => {
  it('folds sslmode and the CA into the URL, in libpq semantics', () => {
    const url = new URL(
      postgresUrlWithTls('--postgres', 'postgres://u@h/db', { sslmode: 'verify-full', ca: '/ca.pem' }),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      sslmode: 'verify-full',
      sslrootcert: '/ca.pem',
      uselibpqcompat: 'true',
    });
    expect(postgresUrlWithTls('--postgres', 'postgres://u@h/db')).toBe('postgres://u@h/db');
  });

  it.each([
    [{ sslmode: 'prefer' }, '--postgres: sslmode must be one of disable, require, verify-ca, verify-full'],
    [{ sslmode: 'verify-ca' }, '--postgres-ca: sslmode verify-ca needs the CA'],
    [{ ca: '/ca.pem' }, '--postgres-ca: a CA needs an sslmode'],
  ])('refuses %j naming the flag', (opts, message) => {
    expect(() => postgresUrlWithTls('--postgres', 'postgres://u@h/db', { ...opts, caAt: '--postgres-ca' })).toThrow(
      message,
    );
  });

  it('never echoes the URL it cannot parse', () => {
    expect(() => postgresUrlWithTls('--postgres', 'postgres://u:hunter2@h:999999/db')).toThrow(/^(?!.*hunter2)/);
  });
});

describe('redact', () => {
  it('masks the password of every URL in a text, and nothing else', () => {
    expect(redact('connect redis://inv:s3cret@h:6379/0 and postgres://u:p@ss@db/x?a=b')).toBe(
      'connect redis://inv:***@h:6379/0 and postgres://u:***@db/x?a=b',
    );
    expect(redact('redis://h:6379 http://user@h/')).toBe('redis://h:6379 http://user@h/');
  });
});
