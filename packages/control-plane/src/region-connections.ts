import { replayLedgerTopic } from '@fabric/contracts';
import type { Logger } from 'pino';
import type { RegionConfig } from './config.js';
import { DatabaseProbe } from './probes/postgres.js';
import { RegionKafka } from './region-kafka.js';
import { ReplayLedger } from './replay-ledger.js';
import { TopicScanner } from './topic-scan.js';

export interface RegionConnection {
  config: RegionConfig;
  kafka: RegionKafka;
  database: DatabaseProbe;
  ledger: ReplayLedger;
  /** Reads the region's DLQ and ledger topics through a few reused consumer groups. */
  scanner: TopicScanner;
}

/** The long-lived clients of every region, made once and shared by all services. */
export class RegionConnections {
  private readonly byName: Map<string, RegionConnection>;

  /**
   * `scanGroups`: consumer groups each region's scanner may use at once; the concurrent
   * dead-letter calls plus one for the ledger keeps any read from waiting for a group.
   */
  constructor(regions: readonly RegionConfig[], timeoutMs: number, logger: Logger, scanGroups = 5) {
    this.byName = new Map(
      regions.map((config, i) => {
        const log = logger.child({ region: config.name });
        const kafka = new RegionKafka(
          config.name,
          config.kafkaBrokers,
          timeoutMs,
          log,
          config.kafkaSecurity,
          `regions[${i}]`,
        );
        const scanner = new TopicScanner(kafka.kafka, config.name, scanGroups);
        return [
          config.name,
          {
            config,
            kafka,
            database: new DatabaseProbe(config.postgresUrl, timeoutMs, log),
            ledger: new ReplayLedger(kafka, scanner, replayLedgerTopic(config.deadLetterTopic)),
            scanner,
          },
        ];
      }),
    );
  }

  /** Only called with names from the RegionDirectory, which already refused unknown ones. */
  get(name: string): RegionConnection {
    const connection = this.byName.get(name);
    if (!connection) throw new Error(`no connections for region ${name}`);
    return connection;
  }

  async close(): Promise<void> {
    await Promise.allSettled(
      [...this.byName.values()].flatMap((c) => [
        // The scan group goes first, while the admin client is still there to delete it.
        c.scanner.close((work) => c.kafka.admin('delete scan group', work)).finally(() => c.kafka.close()),
        c.database.close(),
      ]),
    );
  }
}
