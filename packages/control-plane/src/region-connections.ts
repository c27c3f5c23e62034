import { replayLedgerTopic } from '@fabric/contracts';
import type { Logger } from 'pino';
import type { RegionConfig } from './config.js';
import { DatabaseProbe } from './probes/postgres.js';
import { RegionKafka } from './region-kafka.js';
import { ReplayLedger } from './replay-ledger.js';

export interface RegionConnection {
  config: RegionConfig;
  kafka: RegionKafka;
  database: DatabaseProbe;
  ledger: ReplayLedger;
}

/** The long-lived clients of every region, made once and shared by all services. */
export class RegionConnections {
  private readonly byName: Map<string, RegionConnection>;

  constructor(regions: readonly RegionConfig[], timeoutMs: number, logger: Logger) {
    this.byName = new Map(
      regions.map((config) => {
        const log = logger.child({ region: config.name });
        const kafka = new RegionKafka(config.name, config.kafkaBrokers, timeoutMs, log);
        return [
          config.name,
          {
            config,
            kafka,
            database: new DatabaseProbe(config.postgresUrl, timeoutMs, log),
            ledger: new ReplayLedger(kafka, replayLedgerTopic(config.deadLetterTopic)),
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
    await Promise.allSettled([...this.byName.values()].flatMap((c) => [c.kafka.close(), c.database.close()]));
  }
}
