// Typed errors the sandbox raises. Each message says what to do, because the person
// reading it is usually an operator at a terminal, not a developer with a debugger.

export class SandboxError extends Error {
  override readonly name: string = 'SandboxError';
}

/** A field of the sandbox configuration is wrong; `path` names it, e.g. `regions[1].name`. */
export { ConfigError } from '@fabric/runtime';

/** What every missing-binary error ends with: the command that installs what is missing. */
export const SETUP_HINT = 'Run `npm run setup` (it installs what is missing) or see README "Requirements".';

export class MissingBinaryError extends SandboxError {
  override readonly name = 'MissingBinaryError';
  constructor(
    readonly binary: string,
    fix: string,
  ) {
    super(`${binary} not found. ${fix}`);
  }
}

export class PortTakenError extends SandboxError {
  override readonly name = 'PortTakenError';
  constructor(
    readonly port: number,
    readonly owner: string,
  ) {
    super(
      `port ${port} (${owner}) is already in use. Stop whatever listens there ` +
        `(\`ss -ltnp 'sport = :${port}'\`) or choose another base with --port-base / FABRIC_PORT_BASE.`,
    );
  }
}

export class SandboxLockedError extends SandboxError {
  override readonly name = 'SandboxLockedError';
  constructor(
    readonly pid: number,
    readonly stateDir: string,
  ) {
    super(
      `a sandbox is already running from ${stateDir} (pid ${pid}). Stop it with Ctrl-C in its ` +
        `terminal or \`kill ${pid}\`, or use another --state-dir and --port-base for a second one.`,
    );
  }
}

/** A service did not become ready in time; `logFile` holds what it said. */
export class ServiceStartError extends SandboxError {
  override readonly name = 'ServiceStartError';
  constructor(
    readonly service: string,
    reason: string,
    readonly logFile?: string,
  ) {
    super(`${service} did not start: ${reason}${logFile ? ` (see ${logFile})` : ''}`);
  }
}
