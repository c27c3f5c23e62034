import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaFailure } from './kafka-errors.js';

export interface RecoveringProducerOptions {
  /** Makes a new, not yet connected producer (createProducer on the component's client). */
  create: () => Producer;
  logger: Logger;
  /** Counted by the caller's metrics: why the producer was recreated (the broker's error type). */
  onRecreated?: (type: string) => void;
}

/**
 * A producer that replaces itself when its idempotence state is lost. After an
 * OUT_OF_ORDER_SEQUENCE_NUMBER (or an unknown producer id) the broker refuses every later
 * batch of this producer to that partition, and kafkajs does not reset its sequences: a
 * retry loop would spin forever. A new producer gets a new producer id, whose sequences
 * start afresh. The batch that failed is sent once more by the new producer; the broker
 * never wrote it (it refused it), so that is no duplicate beyond at-least-once.
 */
export class RecoveringProducer {
  private producer: Producer;
  /** Set while the current producer still has to connect: a failed connect is tried again by the next send. */
  private connecting: Promise<void> | undefined;
  private needsConnect = false;

  constructor(private readonly opts: RecoveringProducerOptions) {
    this.producer = opts.create();
  }

  get current(): Producer {
    return this.producer;
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** Runs `send` on the producer; on a lost producer state, recreates it and runs `send` once more. */
  async send<T>(send: (producer: Producer) => Promise<T>): Promise<T> {
    await this.ready();
    const used = this.producer;
    try {
      return await send(used);
    } catch (err) {
      const failure = kafkaFailure(err);
      if (failure.kind !== 'producer-state') throw err;
      await this.replace(used, failure.type ?? 'unknown', err);
      await this.ready();
      return send(this.producer);
    }
  }

  private ready(): Promise<void> {
    if (!this.needsConnect) return Promise.resolve();
    this.connecting ??= this.producer
      .connect()
      .then(() => {
        this.needsConnect = false;
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private async replace(failed: Producer, type: string, err: unknown): Promise<void> {
    // Two sends failing on the same producer recreate it once.
    if (this.producer !== failed) return;
    this.opts.logger.warn({ err, type }, 'kafka producer lost its idempotence state; recreating it');
    this.opts.onRecreated?.(type);
    this.producer = this.opts.create();
    this.needsConnect = true;
    await failed.disconnect().catch(() => {});
  }
}
