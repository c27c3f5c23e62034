import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseReaderConfig } from '@fabric/cdc-reader';
import { defaultKafkaLibs, findBinaries, postgresUser, type ServiceProcess, startPostgres } from '@fabric/sandbox';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCertificates } from '../certificates.js';

/**
 * A PostgreSQL of this suite's own on port 24210 that accepts TCP connections over TLS
 * only (hostssl), with a certificate for 127.0.0.1 alone: `localhost` is then a name the
 * certificate does not carry, which is what tells verify-full from verify-ca.
 */
const PORT = 24210;
// /var/tmp: the postgres user a root run hands the server to must reach the data directory.
const DIR = '/var/tmp/fabric-security-postgres';

describe('the reader to PostgreSQL over TLS', () => {
  let server: ServiceProcess;
  const certs = new TestCertificates(DIR);

  beforeAll(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    certs.ca('ca', '/CN=fabric-pg-test-ca');
    certs.ca('other-ca', '/CN=someone-else');
    certs.issue('server', { ca: 'ca', subject: '/CN=127.0.0.1', extension: 'subjectAltName=IP:127.0.0.1' });
    const bin = findBinaries(defaultKafkaLibs());
    server = await startPostgres({
      region: 'secure',
      host: '127.0.0.1',
      port: PORT,
      dataDir: path.join(DIR, 'data'),
      logFile: path.join(DIR, 'postgres.log'),
      pgBin: bin.pgBin,
      setpriv: bin.setpriv,
      runAs: postgresUser(),
      logger: pino({ level: 'warn' }),
      tls: { certFile: certs.file('server.pem'), keyFile: certs.file('server.key') },
    });
  });
  afterAll(async () => {
    await server?.stop(10_000);
    rmSync(DIR, { recursive: true, force: true });
  });

  /** The URL as the reader's flags make it, then both kinds of connection the reader opens. */
  const connect = async (host: string, sslmode: string, ca?: string) => {
    const config = parseReaderConfig([
      ...['--region', 'secure', '--kafka', '127.0.0.1:1', '--rules', 'rules.yaml', '--continuity', 'off'],
      ...['--postgres', `postgres://postgres@${host}:${PORT}/postgres`, '--postgres-sslmode', sslmode],
      ...(ca ? ['--postgres-ca', certs.file(ca)] : []),
    ])!;
    const answers: string[] = [];
    for (const replication of [undefined, 'database'] as const) {
      const client = new pg.Client({
        connectionString: config.postgresUrl,
        connectionTimeoutMillis: 5_000,
        ...(replication ? { replication } : {}),
      } as pg.ClientConfig);
      client.on('error', () => {});
      try {
        await client.connect();
        const { rows } = await client.query(
          replication ? 'IDENTIFY_SYSTEM' : 'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
        );
        answers.push(replication ? `replication ${rows[0].systemid ? 'ok' : '?'}` : `ssl ${rows[0].ssl}`);
      } catch (err) {
        answers.push(`refused: ${(err as Error).message}`);
      } finally {
        await client.end().catch(() => {});
      }
    }
    return answers;
  };

  it('connects with verify-full and the right CA, queries and replication alike, over TLS', async () => {
    expect(await connect('127.0.0.1', 'verify-full', 'ca.pem')).toEqual(['ssl true', 'replication ok']);
  });

  it('refuses a server its CA did not sign, and a host name the certificate does not carry', async () => {
    for (const answer of await connect('127.0.0.1', 'verify-full', 'other-ca.pem'))
      expect(answer).toMatch(/^refused: .*(self-signed|unable to verify)/);
    for (const answer of await connect('localhost', 'verify-full', 'ca.pem'))
      expect(answer).toMatch(/^refused: .*Hostname\/IP does not match/);
    // verify-ca checks the chain only, as libpq does: the same host name passes.
    expect(await connect('localhost', 'verify-ca', 'ca.pem')).toEqual(['ssl true', 'replication ok']);
  });

  it('is turned away without TLS: the server takes TLS connections only', async () => {
    for (const answer of await connect('127.0.0.1', 'disable')) expect(answer).toMatch(/^refused: .*no encryption/);
  });
});
