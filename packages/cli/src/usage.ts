/** Thrown for wrong command-line use; the CLI prints it with the command's help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const MAIN_HELP = `fabric — multi-region cache invalidation fabric

Usage: fabric <command> [options]

Commands:
  up        Start the local multi-region sandbox (PostgreSQL primary + logical
            replicas, Kafka in KRaft mode, Redis per region) and keep it running
            until Ctrl-C / SIGTERM, then stop everything cleanly.
  status    Show the running sandbox's regions, endpoints and whether each
            service answers.

Global options:
  --json    Machine-readable output on stdout.
  --help    Help for a command: fabric up --help

Environment:
  FABRIC_LOG_LEVEL   pino level for logs on stderr (default info)
`;
