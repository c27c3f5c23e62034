// Command-line flags of `npm run bench`.
import { parseArgs } from 'node:util';

export const HELP = `Usage: npm run bench -- [options]

Starts the full fabric sandbox with the real CLI, drives UPDATEs at the primary and
measures commit→applied latency per region (Redis keyspace notifications), the highest
sustained rate, CPU/RSS per component, the primary's own limit (pgbench), and baselines
(synchronous DEL, Redis pub/sub, Debezium embedded). Writes BENCHMARKS.md.

Options:
  --rate N          Changes/s for the latency run (default 1000)
  --duration S      Seconds of the latency run (default 30)
  --warmup S        Unmeasured load at --rate before the latency runs (default 15; 0 = none)
  --batch N         Rows per transaction (default 1)
  --regions a,b,c   Regions (default us-east,eu-west,ap-south)
  --port-base N     First port (default 24400)
  --state-dir DIR   Sandbox state (default .fabric/bench)
  --rows N          Rows seeded and cached (default 20000)
  --step-seconds S  Seconds per step of the max-rate search (default 10)
  --max-rate N      Highest step tried (default 32000)
  --outage-seconds S  How long a replica region's Redis is down in the outage phase
                    (default 20: longer than the invalidator's retries, so events
                    reach the dead-letter queue and the bench replays them)
  --skip-baselines  Only the fabric (no pgbench/sync DEL/pub-sub/Debezium/outage)
  --skip-debezium   Skip the Debezium baseline
  --skip-profile    Skip the --cpu-prof run
  --skip-solo       Skip the latency run on the home region alone
  --skip-topologies Skip the logical-replica run beside the physical standbys
  --postgres N      PostgreSQL major of both topologies, 16-18 (default 17)
  --phase NAME      all (default), or sdk: only the read side beside bentocache (warm hits,
                    stampede across processes, read-populates-stale race, staleness
                    across instances); it replaces its own section of --out and keeps
                    the rest of the last full run; or drain: a pre-filled topic emptied
                    by one and two invalidators beside the same commands pipelined
                    (events/s, CPU per 1,000, profile), its own section likewise; or
                    catch-up: the reader draining a WAL backlog from a standing start
                    (changes/s, CPU per 1,000, peak RSS of a 200,000-row transaction,
                    --cpu-prof profile, Debezium beside it unless --skip-debezium); or
                    keep-up: the latency run alone (--warmup, --rate, --duration on
                    --regions), commit→applied and CPU per component per 1,000 changes
  --out FILE        Report file (default BENCHMARKS.md)
  --json            Also print the results as JSON on stdout
  --help
`;

export const PHASES = ['all', 'sdk', 'drain', 'catch-up', 'keep-up'] as const;
export type BenchPhase = (typeof PHASES)[number];

function benchPhase(v: string | undefined): BenchPhase {
  const phase = v ?? 'all';
  if (!(PHASES as readonly string[]).includes(phase))
    throw new Error(`--phase must be one of ${PHASES.join(', ')}, got ${phase}`);
  return phase as BenchPhase;
}

export interface BenchOptions {
  help: boolean;
  /** changes/s of the latency run */
  rate: number;
  /** seconds of the latency run */
  duration: number;
  /** seconds of unmeasured load before a latency run */
  warmup: number;
  /** rows per transaction */
  batch: number;
  /** comma-separated region names; the first is home */
  regions: string;
  portBase: number;
  stateDir: string;
  rows: number;
  stepSeconds: number;
  maxRate: number;
  /** seconds the replica's Redis is down in the outage phase */
  outageSeconds: number;
  skipBaselines: boolean;
  skipDebezium: boolean;
  skipProfile: boolean;
  skipSolo: boolean;
  skipTopologies: boolean;
  /** PostgreSQL major of both topologies. */
  postgres: 16 | 17 | 18;
  /** all phases, or one phase alone that updates its own section of `out` */
  phase: BenchPhase;
  out: string;
  json: boolean;
}

const OPTIONS = {
  rate: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  batch: { type: 'string' },
  regions: { type: 'string' },
  'port-base': { type: 'string' },
  'state-dir': { type: 'string' },
  rows: { type: 'string' },
  'step-seconds': { type: 'string' },
  'max-rate': { type: 'string' },
  'outage-seconds': { type: 'string' },
  'skip-baselines': { type: 'boolean' },
  'skip-debezium': { type: 'boolean' },
  'skip-profile': { type: 'boolean' },
  'skip-solo': { type: 'boolean' },
  'skip-topologies': { type: 'boolean' },
  postgres: { type: 'string' },
  phase: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type NumericFlag =
  | 'rate'
  | 'duration'
  | 'warmup'
  | 'batch'
  | 'port-base'
  | 'rows'
  | 'step-seconds'
  | 'max-rate'
  | 'outage-seconds'
  | 'postgres';

function postgresMajor(v: number): 16 | 17 | 18 {
  if (v !== 16 && v !== 17 && v !== 18) throw new Error('--postgres must be 16, 17 or 18 (physical standbys need 16+)');
  return v;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({ args: argv, strict: true, options: OPTIONS });
  const num = (name: NumericFlag, def: number, min = 1): number => {
    const raw = values[name];
    const v = raw === undefined ? def : Number(raw);
    if (!Number.isFinite(v) || v < min) throw new Error(`--${name} must be a number ≥ ${min}`);
    return v;
  };
  return {
    help: !!values.help,
    rate: num('rate', 1000),
    duration: num('duration', 30),
    warmup: num('warmup', 15, 0),
    batch: Math.floor(num('batch', 1)),
    regions: values.regions ?? 'us-east,eu-west,ap-south',
    portBase: num('port-base', 24400, 1024),
    stateDir: values['state-dir'] ?? '.fabric/bench',
    rows: Math.floor(num('rows', 20000, 100)),
    stepSeconds: num('step-seconds', 10),
    maxRate: num('max-rate', 32000),
    outageSeconds: num('outage-seconds', 20),
    skipBaselines: !!values['skip-baselines'],
    skipDebezium: !!values['skip-debezium'],
    skipProfile: !!values['skip-profile'],
    skipSolo: !!values['skip-solo'],
    skipTopologies: !!values['skip-topologies'],
    postgres: postgresMajor(num('postgres', 17)),
    phase: benchPhase(values.phase),
    out: values.out ?? 'BENCHMARKS.md',
    json: !!values.json,
  };
}
