import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { getContainerRuntimeClient, type WaitStrategy } from 'testcontainers';
import type { HealthCheck } from './definitions.js';
import { ServiceUnhealthyError } from './errors.js';

/** How often the check runs while waiting: sooner than compose's interval, which only delays the first success. */
const POLL_MS = 1_000;

/**
 * Waits as `depends_on: service_healthy` does: the service's own compose health check, run
 * in the container (`docker exec`) until it exits 0. It gives up when compose would call the
 * service unhealthy (start period, then `retries` failed intervals) or once the container
 * exits. Run by the backend rather than by the engine's health scheduler, which podman 4.3
 * only has with systemd.
 */
export class ComposeHealthCheck implements WaitStrategy {
  private timeoutMs: number;
  private timeoutSet = false;

  constructor(
    private readonly service: string,
    private readonly check: HealthCheck,
    private readonly logFile: string,
  ) {
    this.timeoutMs = check.startPeriodMs + check.retries * check.intervalMs;
  }

  async waitUntilReady(container: Dockerode.Container): Promise<void> {
    const client = await getContainerRuntimeClient();
    const deadline = Date.now() + this.timeoutMs;
    let last = 'never checked';
    for (;;) {
      const { State: state } = await client.container.inspect(container);
      if (!state.Running) {
        throw new ServiceUnhealthyError(
          this.service,
          `exited with ${state.ExitCode} before it was healthy`,
          this.logFile,
        );
      }
      // A check that outlives compose's timeout counts as failed; its timer must not outlive the check.
      const timer = new AbortController();
      const result = await Promise.race([
        client.container.exec(container, this.check.command, { log: false }),
        sleep(this.check.timeoutMs, undefined, { signal: timer.signal }).catch(() => undefined),
      ]).finally(() => timer.abort());
      if (result?.exitCode === 0) return;
      last = result ? `exit ${result.exitCode}: ${result.output.trim().split('\n').at(-1)}` : 'timed out';
      if (Date.now() >= deadline) {
        throw new ServiceUnhealthyError(
          this.service,
          `health check \`${this.check.command.join(' ')}\` failing after ${this.timeoutMs} ms (${last})`,
          this.logFile,
        );
      }
      await sleep(Math.min(POLL_MS, this.check.intervalMs));
    }
  }

  withStartupTimeout(startupTimeoutMs: number): this {
    this.timeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}
