import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlPlaneClient, hashToken } from '@fabric/control-plane';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support.js';
import { codeOf, startTestControlPlane, TOKENS, testConfig } from './harness.js';

const MAIN = path.resolve('packages/control-plane/dist/main.js');
const GRPC_PORT = 31005;
const METRICS_PORT = 31006;
const TLS_PORT = 31007;

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve({ code: child.exitCode, signal: child.signalCode })
      : child.once('exit', (code, signal) => resolve({ code, signal })),
  );
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return exitOf(child).then(({ code }) => ({ code, stdout, stderr }));
}

describe('fabric-control-plane as a process', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fabric-cp-process-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('explains itself with --help and names a bad config field in one line', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: fabric-control-plane --config FILE/);
    const file = path.join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        ...(await testConfig({ port: GRPC_PORT })),
        tokens: [{ name: 'x', scopes: ['root'], sha256: hashToken('x') }],
      }),
    );
    const bad = await run(['--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('fabric-control-plane: tokens[0].scopes[0]: must be one of read, admin, got "root"\n');
  });

  it('serves gRPC and metrics, and stops cleanly on SIGTERM', async () => {
    const file = path.join(dir, 'config.json');
    const config = await testConfig({ port: GRPC_PORT });
    writeFileSync(file, JSON.stringify({ ...config, metrics: { host: '127.0.0.1', port: METRICS_PORT } }));
    const child = spawn(process.execPath, [MAIN, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d) => (log += d));
    const client = new ControlPlaneClient({ address: `127.0.0.1:${GRPC_PORT}`, token: TOKENS.read });
    try {
      await eventually(
        'control plane serving',
        async () =>
          (await client.health.check({ service: '' }).catch(() => undefined))?.status === 1 ? true : undefined,
        15_000,
      );
      await client.lag.getLag({ region: 'us-east' });
      const metrics = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
      expect(metrics).toMatch(
        /fabric_control_plane_rpcs_total\{method="\/fabric\.v1\.LagService\/GetLag",code="OK",component="control-plane"\} 1/,
      );
      expect(metrics).toMatch(/fabric_region_healthy\{region="us-east",component="control-plane"\} 0/);
      // Unknown is absent, not 0: nothing reports us-east's freshness.
      expect(metrics).not.toMatch(/fabric_region_freshness_seconds\{region="us-east"/);
      expect((await fetch(`http://127.0.0.1:${METRICS_PORT}/healthz`)).status).toBe(200);
      expect(log).toContain('"msg":"control plane started"');
    } finally {
      client.close();
      child.kill('SIGTERM');
    }
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
    expect(log).toContain('"msg":"stopped"');
  });
});

describe('mTLS', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fabric-cp-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=fabric test CA',
    );
    for (const [name, san] of [
      ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      ['client', 'extendedKeyUsage=clientAuth'],
    ] as const) {
      writeFileSync(file(`${name}.ext`), `${san}\n`);
      openssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=fabric test ${name}`,
      );
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '1',
        '-extfile',
        `${name}.ext`,
      );
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('requires a client certificate signed by the client CA, and a token on top', async () => {
    const cp = await startTestControlPlane(
      await testConfig({
        port: TLS_PORT,
        tls: { cert: file('server.pem'), key: file('server.key'), clientCa: file('ca.pem') },
      }),
    );
    const ca = readFileSync(file('ca.pem'));
    try {
      const withCert = cp.client(TOKENS.read, {
        ca,
        cert: readFileSync(file('client.pem')),
        key: readFileSync(file('client.key')),
      });
      expect((await withCert.health.check({ service: '' }, { deadlineMs: 5_000 })).status).toBe(1);
      expect((await withCert.lag.getLag({ region: 'us-east' }, { deadlineMs: 10_000 })).regions).toHaveLength(1);
      const noToken = cp.client(undefined, {
        ca,
        cert: readFileSync(file('client.pem')),
        key: readFileSync(file('client.key')),
      });
      expect((await codeOf(noToken.lag.getLag({}, { deadlineMs: 5_000 }))).code).toBe(status.UNAUTHENTICATED);
      const noCert = cp.client(TOKENS.read, { ca });
      expect((await codeOf(noCert.health.check({ service: '' }, { deadlineMs: 5_000 }))).code).toBe(status.UNAVAILABLE);
      const plaintext = cp.client(TOKENS.read);
      expect((await codeOf(plaintext.health.check({ service: '' }, { deadlineMs: 5_000 }))).code).toBe(
        status.UNAVAILABLE,
      );
    } finally {
      await cp.stop();
    }
  });
});
