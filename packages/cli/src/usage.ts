/** Thrown for wrong command-line use; the CLI prints it with the command's help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const MAIN_HELP = `fabric — multi-region cache invalidation fabric

Usage: fabric <command> [options]

Commands:
  up        Start the local multi-region sandbox (PostgreSQL primary + physical
            standbys or logical replicas, Kafka in KRaft mode, Redis per region) and
            keep it running until Ctrl-C / SIGTERM, then stop everything cleanly.
  status    Show the running sandbox's regions, endpoints and whether each
            service answers.
  lag       Replication, CDC and Kafka lag, freshness, latency, DLQ depth and
            component health per region, from the control plane (--watch).
  dlq       List dead letters (dlq ls), replay them (dlq replay), resolve the
            ones no replay can fix (dlq resolve).
  invalidate
            Invalidate keys, tags or patterns in chosen regions through their
            invalidation topics.
  resync    Resync a region: its invalidator runs the region's recovery action,
            as after a detected gap (needs an admin token).
  failover  Move the running sandbox's home region: promote a standby, repoint
            the others, rebuild the old primary (fabric failover --to eu-west).

Global options:
  --json    Machine-readable output on stdout.
  --help    Help for a command: fabric up --help

Environment:
  FABRIC_LOG_LEVEL       pino level for logs on stderr (default info)
  FABRIC_CONTROL_PLANE   control plane HOST:PORT for lag, dlq, invalidate, resync
                         (default: the running sandbox's)
  FABRIC_TOKEN           bearer token for them (default: the sandbox's admin token)
`;
