#!/usr/bin/env node
import { ControlPlaneError } from '@fabric/control-plane';
import { createLogger, runMain } from '@fabric/runtime';
import { SandboxError } from '@fabric/sandbox';
import { dlq } from './commands/dlq.js';
import { failover } from './commands/failover.js';
import { invalidate } from './commands/invalidate.js';
import { lag } from './commands/lag.js';
import { resync } from './commands/resync.js';
import { status } from './commands/status.js';
import { up } from './commands/up.js';
import { MAIN_HELP, UsageError } from './usage.js';

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  up: (argv) => up(argv, createLogger('fabric')),
  status,
  lag,
  dlq,
  invalidate,
  resync,
  failover,
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

// Expected failures (bad flags, taken ports, missing binaries, refused RPCs) print one
// clear line; anything else is a bug and keeps its stack.
void runMain('fabric', () => main(process.argv.slice(2)), {
  knownErrors: [SandboxError, UsageError, ControlPlaneError],
});
