import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestCertificates } from '../certificates.js';
import { eventually } from '../support.js';
import { invalidation, invalidatorFor, producerFor } from './harness.js';

/**
 * A Redis of this file's own that only speaks TLS (port 28710, certificate from a CA made
 * here) and only lets the ACL user "inv" in, as a managed Redis would.
 */
const PORT = 28710;

describe('invalidator against Redis with TLS and an ACL user', () => {
  const region = inject('endpoints').regions[0]!;
  const dir = mkdtempSync(path.join(tmpdir(), 'fabric-tls-'));
  const file = (name: string) => path.join(dir, name);
  let server: ChildProcess;
  let admin: Redis;

  beforeAll(async () => {
    const certs = new TestCertificates(dir);
    certs.ca('ca', '/CN=fabric-test-ca');
    certs.issue('server', {
      ca: 'ca',
      subject: '/CN=localhost',
      extension: 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    });
    writeFileSync(file('password'), 's3cret\n', { mode: 0o600 });
    server = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(PORT),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        file('server.pem'),
        '--tls-key-file',
        file('server.key'),
        '--tls-ca-cert-file',
        file('ca.pem'),
        '--tls-auth-clients',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--user',
        'default',
        'off',
        '--user',
        'inv',
        'on',
        '>s3cret',
        '~*',
        '&*',
        '+@all',
      ],
      { stdio: 'ignore' },
    );
    admin = new Redis({
      port: PORT,
      host: '127.0.0.1',
      username: 'inv',
      password: 's3cret',
      tls: { ca: readFileSync(file('ca.pem')) },
      lazyConnect: true,
    });
    admin.on('error', () => {});
    await eventually('tls redis up', async () => {
      if (admin.status !== 'ready') await admin.connect().catch(() => undefined);
      return (await admin.ping()) === 'PONG' ? true : undefined;
    });
  });
  afterAll(async () => {
    admin?.disconnect();
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server certificate, logs in as the ACL user and applies events', async () => {
    const inv = await invalidatorFor(region, {
      name: 'tls',
      redisArgs: [
        '--redis',
        `rediss://127.0.0.1:${PORT}`,
        '--redis-tls-ca',
        file('ca.pem'),
        '--redis-user',
        'inv',
        '--redis-password-file',
        file('password'),
      ],
    });
    const producer = await producerFor(region);
    try {
      await inv.start();
      // Joining the group says nothing about Redis: wait for the TLS login itself.
      await eventually('logged in to Redis over TLS', async () =>
        (await inv.health()).redis === 'up' ? true : undefined,
      );
      await admin.hset('secure:user:1', 'd', '1', 'v', '1');
      await producer.publish(inv.topic, [invalidation({ keys: ['secure:user:1'] })]);
      await eventually('key gone over TLS', async () =>
        (await admin.exists('secure:user:1')) === 0 ? true : undefined,
      );
    } finally {
      await producer.disconnect();
      await inv.dispose();
    }
  });

  it('stays down (and says so) with a wrong password or without the CA', async () => {
    writeFileSync(file('wrong'), 'nope');
    for (const redisArgs of [
      [
        '--redis',
        `rediss://127.0.0.1:${PORT}`,
        '--redis-tls-ca',
        file('ca.pem'),
        '--redis-user',
        'inv',
        '--redis-password-file',
        file('wrong'),
      ],
      ['--redis', `rediss://127.0.0.1:${PORT}`, '--redis-user', 'inv', '--redis-password-file', file('password')],
    ]) {
      const inv = await invalidatorFor(region, { name: 'tls-bad', redisArgs });
      try {
        await inv.start();
        const logFile = path.join(
          inject('endpoints').stateDir,
          region.region,
          'logs',
          `invalidator-${inv.groupId.replace('test-invalidator-', '')}.log`,
        );
        const hint = redisArgs.includes(file('wrong'))
          ? /check --redis-user and --redis-password-file/
          : /check --redis-tls-ca/;
        // "down" before any attempt would prove nothing: first the refused attempt, with the flag to fix.
        await eventually('the refusal logged with the flag to fix', async () =>
          hint.test(readFileSync(logFile, 'utf8')) ? true : undefined,
        );
        expect((await inv.health()).redis).toBe('down');
      } finally {
        await inv.dispose();
      }
    }
  });
});
