import { backoffDelay } from '@fabric/runtime';
import type { Logger } from 'pino';
import { ServiceProcess, type ServiceSpec } from './service-process.js';

/** A run longer than this counts as healthy: the next crash restarts quickly again. */
const HEALTHY_RUN_MS = 30_000;

/**
 * Keeps a worker (reader, invalidator, control plane) running: a crash is restarted
 * after a capped, jittered backoff. Workers resume from durable positions (slot LSN,
 * consumer offsets), so restarting is always safe, and one crashing worker must not
 * take the region's databases and brokers down with it.
 */
export class Supervisor {
  private current: ServiceProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempt = 0;
  restarts = 0;

  constructor(
    readonly spec: ServiceSpec,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const startedAt = Date.now();
    const proc = ServiceProcess.start(this.spec, this.logger);
    this.current = proc;
    void proc.exited.then((status) => {
      if (this.stopped || this.current !== proc) return;
      this.attempt = Date.now() - startedAt > HEALTHY_RUN_MS ? 1 : this.attempt + 1;
      const delay = 250 + backoffDelay(this.attempt, 500, 15_000);
      this.restarts++;
      this.logger.warn({ worker: this.spec.name, ...status, restartInMs: delay, logFile: this.spec.logFile }, 'worker exited; restarting');
      this.timer = setTimeout(() => this.start(), delay);
    });
  }

  get pid(): number | undefined {
    return this.current?.running ? this.current.pid : undefined;
  }

  /** For chaos: SIGKILL, SIGSTOP, SIGCONT reach the current process. */
  signal(sig: NodeJS.Signals): void {
    this.current?.signal(sig);
  }

  async stop(graceMs = 15_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // A paused (SIGSTOP) worker cannot handle SIGTERM until it runs again.
    this.current?.signal('SIGCONT');
    await this.current?.stop(graceMs);
  }
}
