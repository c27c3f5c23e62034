import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlPlaneClient, hashToken } from '@fabric/control-plane';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCertificates } from '../certificates.js';
import { eventually } from '../support.js';
import { codeOf, startTestControlPlane, TOKENS, testConfig } from './harness.js';

const MAIN = path.resolve('packages/control-plane/dist/main.js');
const CLI = path.resolve('packages/cli/dist/bin.js');
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

function run(
  args: string[],
  script = MAIN,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
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
    const certs = new TestCertificates(dir);
    // The control plane's client CA, and another one whose client certificate it must refuse.
    certs.ca('ca', '/CN=fabric test CA');
    certs.ca('other-ca', '/CN=some other CA');
    for (const [name, extension, ca] of [
      ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost', 'ca'],
      ['client', 'extendedKeyUsage=clientAuth', 'ca'],
      ['stranger', 'extendedKeyUsage=clientAuth', 'other-ca'],
    ] as const) {
      certs.issue(name, { ca, subject: `/CN=fabric test ${name}`, extension });
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const startMtls = async () =>
    startTestControlPlane(
      await testConfig({
        port: TLS_PORT,
        tls: { cert: file('server.pem'), key: file('server.key'), clientCa: file('ca.pem') },
      }),
    );

  it('requires a client certificate signed by the client CA, and a token on top', async () => {
    const cp = await startMtls();
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
      // A well-formed client certificate, valid under its own CA, but not the one the server trusts.
      expect(
        execFileSync('openssl', ['verify', '-CAfile', 'other-ca.pem', 'stranger.pem'], { cwd: dir }).toString(),
      ).toMatch(/stranger\.pem: OK/);
      const stranger = cp.client(TOKENS.read, {
        ca,
        cert: readFileSync(file('stranger.pem')),
        key: readFileSync(file('stranger.key')),
      });
      expect((await codeOf(stranger.health.check({ service: '' }, { deadlineMs: 5_000 }))).code).toBe(
        status.UNAVAILABLE,
      );
      expect((await codeOf(stranger.lag.getLag({ region: 'us-east' }, { deadlineMs: 5_000 }))).code).toBe(
        status.UNAVAILABLE,
      );
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

  it('fabric lag connects with --tls-ca, --tls-cert and --tls-key, and says what is wrong without them', async () => {
    const cp = await startMtls();
    // Only the flags choose the control plane and token: nothing from the caller's environment.
    const { FABRIC_CONTROL_PLANE: _a, FABRIC_TOKEN: _b, FABRIC_STATE_DIR: _c, ...env } = process.env;
    const lag = (...flags: string[]) =>
      run(
        ['lag', '--server', `127.0.0.1:${TLS_PORT}`, '--token', TOKENS.read, '--region', 'us-east', '--json', ...flags],
        CLI,
        env,
      );
    const ca = ['--tls-ca', file('ca.pem')];
    try {
      const ok = await lag(...ca, '--tls-cert', file('client.pem'), '--tls-key', file('client.key'));
      // The answer arrived: exit 1 only says the region is not healthy (no worker answers in this configuration).
      expect(ok.stderr).not.toContain('fabric:');
      expect(ok.code).toBe(1);
      expect((JSON.parse(ok.stdout) as { regions: Array<{ region: string }> }).regions.map((r) => r.region)).toEqual([
        'us-east',
      ]);

      const noCert = await lag(...ca);
      expect(noCert.code).toBe(2);
      expect(noCert.stdout).toBe('');
      expect(noCert.stderr).toMatch(/^fabric: UNAVAILABLE: .*certificate required/m);

      const stranger = await lag(...ca, '--tls-cert', file('stranger.pem'), '--tls-key', file('stranger.key'));
      expect(stranger.code).toBe(2);
      expect(stranger.stderr).toMatch(/^fabric: UNAVAILABLE: /m);

      const plaintext = await lag();
      expect(plaintext.code).toBe(2);
      expect(plaintext.stderr).toMatch(/^fabric: UNAVAILABLE: /m);

      const halfPair = await lag(...ca, '--tls-cert', file('client.pem'));
      expect([halfPair.code, halfPair.stderr]).toEqual([2, 'fabric: --tls-cert and --tls-key go together\n']);
      const unreadable = await lag(
        '--tls-ca',
        file('missing.pem'),
        '--tls-cert',
        file('client.pem'),
        '--tls-key',
        file('client.key'),
      );
      expect(unreadable.code).toBe(2);
      expect(unreadable.stderr).toMatch(new RegExp(`^fabric: --tls-ca: cannot read ${file('missing.pem')}`));
    } finally {
      await cp.stop();
    }
  });
});
