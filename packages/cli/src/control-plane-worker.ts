import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlPlaneClient, ServingStatus } from '@fabric/control-plane';
import { homeRegion, type Sandbox, type SandboxEndpoints, SandboxError } from '@fabric/sandbox';
import { writeControlPlaneFiles } from './control-plane-files.js';
import { workerScript } from './workers.js';

export class ControlPlaneNotReadyError extends SandboxError {
  override readonly name = 'ControlPlaneNotReadyError';
}

/**
 * Starts the sandbox's control plane as a supervised worker (logs in
 * <state-dir>/<home region>/logs/control-plane.log) on the sandbox's control-plane ports,
 * after writing its configuration and tokens under <state-dir>/control-plane/. It is
 * global: it runs outside every region's network namespace, so cutting a region off
 * shows up in its reports instead of taking it down with the home region.
 */
export function startControlPlane(sandbox: Pick<Sandbox, 'endpoints' | 'startWorker'>): { tokensFile: string } {
  const { configFile, tokensFile } = writeControlPlaneFiles(sandbox.endpoints);
  const script = workerScript('@fabric/control-plane');
  sandbox.startWorker(
    homeRegion(sandbox.endpoints).region,
    'control-plane',
    { command: process.execPath, args: [script, '--config', configFile], stopSignal: 'SIGTERM' },
    { global: true },
  );
  return { tokensFile };
}

/** Resolves once the control plane answers SERVING to a standard gRPC health check. */
export async function waitForControlPlane(endpoints: SandboxEndpoints, timeoutMs = 30_000): Promise<void> {
  const { host, port } = endpoints.controlPlane;
  const client = new ControlPlaneClient({ address: `${host}:${port}` });
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  try {
    while (Date.now() < deadline) {
      try {
        if ((await client.health.check({ service: '' }, { deadlineMs: 1_000 })).status === ServingStatus.SERVING)
          return;
        last = 'not serving';
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(200);
    }
  } finally {
    client.close();
  }
  const log = path.join(endpoints.stateDir, homeRegion(endpoints).region, 'logs', 'control-plane.log');
  throw new ControlPlaneNotReadyError(
    `control plane on ${host}:${port} not serving after ${timeoutMs / 1000} s (${last}); see ${log}`,
  );
}
