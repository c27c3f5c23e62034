import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceStartError } from './errors.js';
import type { ServiceProcess } from './service-process.js';

/**
 * Polls `probe` until it resolves, the process exits, or the deadline passes. Failing on
 * exit matters: a broker that died on a bad config should fail the start in a second,
 * not after the whole timeout.
 */
export async function waitUntilReady(
  service: ServiceProcess,
  probe: () => Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  try {
    await poll(service, probe, timeoutMs);
  } catch (err) {
    // Not ready means not ours to keep: stop it, so a failed start leaves nothing behind.
    await service.stop(5_000);
    throw err;
  }
}

async function poll(service: ServiceProcess, probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!service.running) {
      const status = await service.exited;
      throw new ServiceStartError(
        service.spec.name,
        `exited with ${status.signal ?? `code ${status.code}`}`,
        service.spec.logFile,
      );
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
    }
    await sleep(250);
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new ServiceStartError(
    service.spec.name,
    `not ready after ${timeoutMs} ms (last error: ${reason})`,
    service.spec.logFile,
  );
}
