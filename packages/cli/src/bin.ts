#!/usr/bin/env node
import { ControlPlaneError } from '@fabric/control-plane';
import { createLogger } from '@fabric/runtime';
import { ConfigError, SandboxError } from '@fabric/sandbox';
import { dlq } from './commands/dlq.js';
import { invalidate } from './commands/invalidate.js';
import { lag } from './commands/lag.js';
import { status } from './commands/status.js';
import { up } from './commands/up.js';
import { MAIN_HELP, UsageError } from './usage.js';

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  up: (argv) => up(argv, createLogger('fabric')),
  status,
  lag,
  dlq,
  invalidate,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(MAIN_HELP);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"; run fabric --help for the list`);
  return command(rest);
}

/**
 * Exits once stdout and stderr are flushed: writes to a pipe are asynchronous, and exiting
 * at once cuts a large --json answer short for whatever reads it (jq, a script).
 */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(
  (code) => exitAfterFlush(code),
  (err: unknown) => {
    // Expected failures (bad flags, taken ports, missing binaries, refused RPCs) print one
    // clear line; anything else is a bug and keeps its stack.
    const known =
      err instanceof SandboxError ||
      err instanceof ConfigError ||
      err instanceof UsageError ||
      err instanceof ControlPlaneError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`fabric: ${known ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`);
    exitAfterFlush(known ? 2 : 1);
  },
);
