import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from 'pino';

export interface ServiceSpec {
  /** "us-east postgres": used in logs and errors. */
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses to run as root). */
  runAs?: { uid: number; gid: number };
  /** The signal that makes this service shut down cleanly and quickly. */
  stopSignal: NodeJS.Signals;
  setpriv: string;
  /** Run inside this network namespace (netns mode); `ip netns exec` execs, so the pid stays. */
  netns?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One supervised child. It is started through setpriv with a parent-death signal, so
 * even a kill -9 of the sandbox stops it: no orphan keeps a port or a data directory.
 */
export class ServiceProcess {
  readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | undefined;
  private readonly log: WriteStream;
  /** All of the child's output has been read (its pipes closed). */
  private readonly closed: Promise<void>;

  private constructor(
    readonly spec: ServiceSpec,
    private readonly child: ChildProcess,
    private readonly logger: Logger,
  ) {
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
    // A log file that cannot be written must not take the sandbox down with it.
    this.log.on('error', (err) => logger.debug({ err, service: spec.name }, 'service log not written'));
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
      child.once('error', (err) => {
        this.logger.error({ err, service: spec.name }, 'could not start process');
        this.exitStatus = { code: -1, signal: null };
        resolve(this.exitStatus);
      });
    });
  }

  static start(spec: ServiceSpec, logger: Logger): ServiceProcess {
    const wrapper = ['--pdeathsig', spec.stopSignal.replace(/^SIG/, '')];
    if (spec.runAs) {
      wrapper.push(`--reuid=${spec.runAs.uid}`, `--regid=${spec.runAs.gid}`, '--init-groups');
    }
    const argv = [spec.setpriv, ...wrapper, '--', spec.command, ...spec.args];
    if (spec.netns) argv.unshift('ip', 'netns', 'exec', spec.netns);
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C at the terminal reaches only the sandbox, which then
      // stops services in order (workers before brokers before databases).
      detached: true,
    });
    logger.debug({ service: spec.name, pid: child.pid, command: spec.command }, 'started');
    return new ServiceProcess(spec, child, logger);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** Asks politely with the service's own stop signal, then SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<ExitStatus> {
    if (!this.running) return this.exitStatus!;
    this.child.kill(this.spec.stopSignal);
    const timer = setTimeout(() => {
      this.logger.warn({ service: this.spec.name, graceMs }, 'did not stop in time, killing');
      this.child.kill('SIGKILL');
    }, graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    await this.closeLog();
    return status;
  }

  /**
   * 'exit' comes before the last output is read, and a process the service started may
   * hold its pipes open longer. Take what arrives in a moment, then detach: writing into
   * an ended log file would throw from a stream event and end the whole sandbox.
   */
  private async closeLog(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))]);
    clearTimeout(timer);
    for (const out of [this.child.stdout, this.child.stderr]) {
      out?.unpipe(this.log);
      out?.resume();
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  /** Sends a signal without waiting: chaos tests pause (SIGSTOP) or kill components. */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }
}
