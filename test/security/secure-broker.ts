import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultKafkaLibs, findBinaries, type ServiceProcess, startKafka } from '@fabric/sandbox';
import { pino } from 'pino';
import { TestCertificates } from '../certificates.js';

/**
 * A broker of this suite's own (not the shared sandbox's), speaking only SASL_SSL on
 * `port`: a certificate from a CA made here, and one SCRAM user. Also a second CA that
 * signed nothing the broker holds, for clients that must not trust it.
 */
export interface SecureBroker {
  broker: string;
  region: string;
  user: { name: string; password: string };
  file(name: string): string;
  stop(): Promise<void>;
}

export async function startSecureBroker(opts: { port: number; region: string; dir: string }): Promise<SecureBroker> {
  rmSync(opts.dir, { recursive: true, force: true });
  mkdirSync(opts.dir, { recursive: true });
  const certs = new TestCertificates(opts.dir);
  certs.ca('ca', '/CN=fabric-kafka-test-ca');
  certs.ca('other-ca', '/CN=someone-else');
  certs.issue('broker', { ca: 'ca', subject: '/CN=localhost', extension: 'subjectAltName=IP:127.0.0.1,DNS:localhost' });
  const user = { name: 'fabric', password: 'kafka-s3cret-pw' };
  writeFileSync(certs.file('password'), `${user.password}\n`, { mode: 0o600 });
  writeFileSync(certs.file('wrong-password'), 'not-the-password\n', { mode: 0o600 });
  const bin = findBinaries(defaultKafkaLibs());
  const proc: ServiceProcess = await startKafka({
    region: opts.region,
    host: '127.0.0.1',
    port: opts.port,
    controllerPort: opts.port + 1,
    dir: path.join(opts.dir, 'kafka'),
    logFile: path.join(opts.dir, 'kafka.log'),
    java: bin.java,
    kafkaLibs: bin.kafkaLibs,
    heap: '384m',
    partitions: 2,
    setpriv: bin.setpriv,
    logger: pino({ level: 'warn' }),
    security: {
      certFile: certs.file('broker.pem'),
      keyFile: certs.file('broker.key'),
      caFile: certs.file('ca.pem'),
      user,
    },
  });
  return {
    broker: `127.0.0.1:${opts.port}`,
    region: opts.region,
    user,
    file: (name) => certs.file(name),
    stop: () => proc.stop(10_000),
  };
}
