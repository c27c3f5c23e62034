#!/usr/bin/env node
import { ConfigError, SandboxError } from '@fabric/sandbox';
import { createLogger } from '@fabric/runtime';
import { MAIN_HELP, UsageError } from './usage.js';
import { up } from './commands/up.js';
import { status } from './commands/status.js';

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  up: (argv) => up(argv, createLogger('fabric')),
  status,
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Expected failures (bad flags, taken ports, missing binaries) print one clear line;
    // anything else is a bug and keeps its stack.
    const known = err instanceof SandboxError || err instanceof ConfigError || err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`fabric: ${known ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`);
    process.exit(known ? 2 : 1);
  },
);
