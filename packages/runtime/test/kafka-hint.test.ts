import {
  KafkaJSConnectionClosedError,
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { explainKafkaError, KafkaAccessError, kafkaErrorHint, kafkaFieldNames } from '../src/kafka-hint.js';
import type { KafkaSecurity } from '../src/kafka-security.js';

const scram: KafkaSecurity['sasl'] = { mechanism: 'scram-sha-512', username: 'fabric', password: 'pw' };
// What kafkajs throws once its retries are spent: the broker's answer as the cause.
const gaveUp = (cause: Error) => new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 8, retryTime: 5_000 });
const closed = () => gaveUp(new KafkaJSConnectionClosedError('Closed connection', { host: 'k', port: 9093 }));

describe('kafkaErrorHint', () => {
  it('names the SASL and TLS flags when a plaintext client without credentials is hung up on', () => {
    const hint = kafkaErrorHint(closed(), {});
    expect(hint).toMatch(/--kafka-tls on/);
    expect(hint).toMatch(/--kafka-sasl, --kafka-username and --kafka-password-file/);
  });

  it('names only what is missing, and nothing for a client that has both (an outage)', () => {
    const tlsOnly = kafkaErrorHint(closed(), { tls: {} })!;
    expect(tlsOnly).toMatch(/--kafka-sasl/);
    expect(tlsOnly).not.toMatch(/--kafka-tls/);
    const saslOnly = kafkaErrorHint(closed(), { sasl: scram })!;
    expect(saslOnly).toMatch(/--kafka-tls on/);
    expect(saslOnly).not.toMatch(/--kafka-username/);
    expect(kafkaErrorHint(closed(), { tls: {}, sasl: scram })).toBeUndefined();
  });

  it('says the credentials were refused, naming the user but never the password', () => {
    const hint = kafkaErrorHint(
      gaveUp(new KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed: Authentication failed')),
      { tls: {}, sasl: scram },
    )!;
    expect(hint).toMatch(/refused the credentials of fabric: check --kafka-sasl/);
    expect(hint).not.toContain('pw');
  });

  it('points at --kafka-ca for a certificate the client does not trust', () => {
    const err = new KafkaJSConnectionError('unable to verify the first certificate');
    expect(kafkaErrorHint(err, { tls: {}, sasl: scram })).toMatch(/check --kafka-ca/);
  });

  it('says a TLS client may be talking to a plaintext port', () => {
    const err = new KafkaJSConnectionError(
      'Client network socket disconnected before secure TLS connection was established',
    );
    expect(kafkaErrorHint(err, { tls: {} })).toMatch(/plaintext listener/);
  });

  it('leaves an ordinary outage alone', () => {
    expect(kafkaErrorHint(gaveUp(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED')), {})).toBe(
      undefined,
    );
    expect(kafkaErrorHint(new Error('boom'), {})).toBeUndefined();
  });

  it("speaks the control plane's JSON fields when asked", () => {
    expect(kafkaErrorHint(closed(), {}, kafkaFieldNames('regions[1]'))).toMatch(
      /TLS \(regions\[1\]\.kafkaTls\) or SASL \(regions\[1\]\.kafkaSasl\)/,
    );
  });
});

describe('explainKafkaError', () => {
  it('wraps a hinted error as a KafkaAccessError that keeps what Kafka said, and passes others through', () => {
    const explained = explainKafkaError(closed(), {});
    expect(explained).toBeInstanceOf(KafkaAccessError);
    expect((explained as Error).message).toMatch(/--kafka-sasl.*\(Kafka said: Closed connection\)$/);
    const other = new Error('boom');
    expect(explainKafkaError(other, {})).toBe(other);
  });
});
