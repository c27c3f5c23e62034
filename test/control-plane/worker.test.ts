import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlPlaneClient } from '@fabric/control-plane';
import type { Sandbox, SandboxEndpoints } from '@fabric/sandbox';
import { status } from '@grpc/grpc-js';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startControlPlane, waitForControlPlane } from '../../packages/cli/dist/control-plane-worker.js';
import { codeOf } from './harness.js';

const PORT = 31009;

describe('the sandbox control-plane worker', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'fabric-cp-worker-'));
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('runs globally on the sandbox ports and accepts the tokens it wrote', async () => {
    const endpoints: SandboxEndpoints = {
      ...inject('endpoints'),
      stateDir,
      controlPlane: { host: '127.0.0.1', port: PORT, metricsPort: PORT + 1 },
    };
    // Sandbox.startWorker supervises what it is given; here the test runs it itself.
    const started: Array<{ region: string; kind: string; opts: unknown }> = [];
    const sandbox: Pick<Sandbox, 'endpoints' | 'startWorker'> = {
      endpoints,
      startWorker: ((region: string, kind: string, spec: { command: string; args: string[] }, opts: unknown) => {
        started.push({ region, kind, opts });
        child = spawn(spec.command, spec.args, { stdio: 'ignore' });
      }) as unknown as Sandbox['startWorker'],
    };

    const { tokensFile } = startControlPlane(sandbox);
    expect(started).toEqual([{ region: 'us-east', kind: 'control-plane', opts: { global: true } }]);
    expect(tokensFile).toBe(path.join(stateDir, 'control-plane', 'tokens.json'));
    expect(statSync(tokensFile).mode & 0o777).toBe(0o600);
    await waitForControlPlane(endpoints, 20_000);

    const tokens = JSON.parse(readFileSync(tokensFile, 'utf8')) as { read: string; admin: string };
    const admin = new ControlPlaneClient({ address: `127.0.0.1:${PORT}`, token: tokens.admin });
    const reader = new ControlPlaneClient({ address: `127.0.0.1:${PORT}`, token: tokens.read });
    try {
      const lag = await admin.lag.getLag({}, { deadlineMs: 15_000 });
      expect(lag.regions.map((r) => r.region)).toEqual(endpoints.regions.map((r) => r.region));
      expect((await codeOf(reader.invalidation.invalidate({ regions: ['us-east'], keys: ['never'] }))).code).toBe(
        status.PERMISSION_DENIED,
      );
      expect((await reader.lag.getLag({ region: 'eu-west' }, { deadlineMs: 15_000 })).regions).toHaveLength(1);
    } finally {
      admin.close();
      reader.close();
    }
  });

  it('says where to look when the control plane never serves', async () => {
    const endpoints: SandboxEndpoints = {
      ...inject('endpoints'),
      stateDir,
      controlPlane: { host: '127.0.0.1', port: PORT + 2, metricsPort: PORT + 3 },
    };
    await expect(waitForControlPlane(endpoints, 1_000)).rejects.toThrow(
      `control plane on 127.0.0.1:${PORT + 2} not serving after 1 s`,
    );
  });
});
