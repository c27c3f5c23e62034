import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '@fabric/runtime';
import type { Logger } from 'pino';
import type { ServiceProcess } from './service-process.js';

/** A run longer than this counts as healthy: the next crash restarts quickly again. */
const HEALTHY_RUN_MS = 30_000;
const HOLD_POLL_MS = 200;

export interface SupervisorFiles {
  /** Holds the current pid, so scripts outside the sandbox can signal the process. */
  pidFile: string;
  /** While this file exists, an exited process is not restarted (chaos: "stop for 10 s"). */
  holdFile: string;
}

/**
 * Keeps one process running: a crash is restarted after a capped, jittered backoff.
 * Workers resume from durable positions (slot LSN, consumer offsets) and services from
 * their data directories, so restarting is always safe, and one crashing process must not
 * take the rest of the region down with it. A hold file parks the restart until removed.
 */
export class Supervisor {
  private current: ServiceProcess | undefined;
  private stopped = false;
  private attempt = 0;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  restarts = 0;

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<ServiceProcess>,
    private readonly files: SupervisorFiles,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the first launch is ready; a failed first launch rejects (nothing to keep). */
  async start(): Promise<void> {
    mkdirSync(path.dirname(this.files.pidFile), { recursive: true });
    rmSync(this.files.holdFile, { force: true });
    await this.launchOnce();
    this.loop = this.keepRunning();
  }

  private async launchOnce(): Promise<ServiceProcess> {
    const proc = await this.launch();
    this.current = proc;
    writeFileSync(this.files.pidFile, `${proc.pid}\n`);
    return proc;
  }

  private async keepRunning(): Promise<void> {
    while (!this.stopped) {
      const startedAt = Date.now();
      const status = await this.current!.exited;
      if (this.stopped) return;
      rmSync(this.files.pidFile, { force: true });
      if (existsSync(this.files.holdFile)) {
        this.logger.warn(
          { process: this.name, ...status, holdFile: this.files.holdFile },
          'exited and held; restarts when the hold file is removed',
        );
        while (existsSync(this.files.holdFile) && !this.stopped) await this.pause(HOLD_POLL_MS);
        this.attempt = 0;
      } else {
        this.attempt = Date.now() - startedAt > HEALTHY_RUN_MS ? 1 : this.attempt + 1;
        const delay = 250 + backoffDelay(this.attempt, 500, 15_000);
        this.logger.warn({ process: this.name, ...status, restartInMs: delay }, 'exited; restarting');
        await this.pause(delay);
      }
      while (!this.stopped) {
        try {
          const proc = await this.launchOnce();
          // A stop that came while this launch was starting up would otherwise miss it.
          if (this.stopped) return void (await proc.stop());
          this.restarts++;
          this.logger.info({ process: this.name, pid: this.current!.pid }, 'restarted');
          break;
        } catch (err) {
          this.attempt++;
          const delay = 250 + backoffDelay(this.attempt, 500, 15_000);
          this.logger.error({ process: this.name, err, retryInMs: delay }, 'restart failed');
          await this.pause(delay);
        }
      }
    }
  }

  /** Sleeps, but wakes at once when the supervisor is stopped. */
  private pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.current?.running ? this.current.pid : undefined;
  }

  get process(): ServiceProcess | undefined {
    return this.current;
  }

  /** For chaos: SIGKILL, SIGSTOP, SIGCONT reach the current process. */
  signal(sig: NodeJS.Signals): void {
    this.current?.signal(sig);
  }

  /**
   * Stops the process and keeps it stopped until release(), the supervisor itself staying
   * in charge: what a failover does to fence the old primary and rebuild its data directory.
   */
  async hold(graceMs = 30_000): Promise<void> {
    mkdirSync(path.dirname(this.files.holdFile), { recursive: true });
    writeFileSync(this.files.holdFile, 'held by the sandbox\n');
    await this.current?.stop(graceMs);
  }

  /** Lets a held process start again; resolves once it runs (a launch waits for readiness). */
  async release(timeoutMs = 90_000): Promise<void> {
    rmSync(this.files.holdFile, { force: true });
    const deadline = Date.now() + timeoutMs;
    while (!this.pid) {
      if (Date.now() > deadline) throw new Error(`${this.name} did not start again within ${timeoutMs / 1000} s`);
      await this.pause(HOLD_POLL_MS);
    }
  }

  async stop(graceMs = 15_000): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    // A paused (SIGSTOP) process cannot handle its stop signal until it runs again.
    this.current?.signal('SIGCONT');
    await this.current?.stop(graceMs);
    rmSync(this.files.pidFile, { force: true });
    rmSync(this.files.holdFile, { force: true });
    await this.loop;
  }
}
