import { ConfigError } from './config-error.js';
import { redact } from './redact.js';

/** An error class whose instances mean "the operator has something to fix", not a bug. */
export type KnownError = abstract new (...args: never[]) => Error;

export interface RunMainOptions {
  /** Expected failures besides ConfigError and bad flags: one line and exit 2. Anything else keeps its stack, exit 1. */
  knownErrors?: readonly KnownError[];
  /** Where the answer goes and how the process ends; the process's own by default. */
  io?: MainIo;
}

export interface MainIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Called with the code as soon as it is known, before the streams are flushed. */
  settle?(code: number): void;
  exit(code: number): void;
}

/**
 * Runs a program's `main` and exits with the code it returns. Expected failures (bad
 * flags, bad config, a refused request) print one clear line prefixed with the program's
 * name and exit 2; anything else is a bug and keeps its stack, exit 1.
 *
 * Exits only once stdout and stderr are flushed: writes to a pipe are asynchronous, and
 * exiting at once cuts a large --json answer short for whatever reads it (jq, a script).
 */
export function runMain(name: string, main: () => Promise<number>, opts: RunMainOptions = {}): Promise<void> {
  const io = opts.io ?? processIo();
  const known = [ConfigError, ...(opts.knownErrors ?? [])];
  return main().then(
    (code) => exitAfterFlush(io, code),
    (err: unknown) => {
      const expected = known.some((k) => err instanceof k) || isParseArgsError(err);
      // Masked: a library's error may quote the connection string, password and all.
      io.stderr.write(`${name}: ${redact(expected ? (err as Error).message : describeBug(err))}\n`);
      exitAfterFlush(io, expected ? 2 : 1);
    },
  );
}

/** node:util parseArgs rejects unknown or malformed flags with these codes. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function describeBug(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

function exitAfterFlush(io: MainIo, code: number): void {
  io.settle?.(code);
  io.stdout.write('', () => io.stderr.write('', () => io.exit(code)));
}

function processIo(): MainIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // Should the event loop empty before the streams call back, the process still ends with the code.
    settle: (code) => {
      process.exitCode = code;
    },
    exit: (code) => process.exit(code),
  };
}
