import type { ContinuityState, RecoveryAction } from '@fabric/contracts';
import { create, type InvalidationEvent, InvalidationEventSchema, Operation } from '@fabric/proto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ApplyResult } from './apply-tally.js';
import { continuityOf, type ResyncProgress, type ResyncStore } from './resync-store.js';

/** One resync to run: why, and the recovery action (empty: the one the region's reader recorded). */
export interface ResyncJob {
  id: string;
  reason: string;
  detail: string;
  recovery: RecoveryAction;
}

export interface ResyncControl {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
}

export type ResyncOutcome = { status: 'done'; keysDropped: number } | { status: 'interrupted' };

export class ResyncError extends Error {
  override readonly name = 'ResyncError';
}

export interface ResyncRunnerDeps {
  store: ResyncStore;
  /** Deletes keys (and their leases), expands tags, bumps versions: the applier. */
  apply(events: InvalidationEvent[]): Promise<ApplyResult>;
  /** Every master that holds a share of the keyspace, in a stable order. */
  masters(): Redis[];
  /** SCAN COUNT per page: bounds the keys held in memory and each step's time in Redis. */
  pageSize: number;
  logger: Logger;
  onStarted?(job: ResyncJob): void;
  onFinished?(job: ResyncJob, keysDropped: number, seconds: number): void;
  now?: () => Date;
}

/**
 * Runs a region's recovery action: the literal keys, tags and versions first, then every
 * pattern as a paged SCAN on every master, deleting each page (values and their fill
 * leases) before asking for the next. Progress is saved after each page, so a crash or a
 * rebalance resumes at the page it stopped at instead of starting over, and memory stays
 * at one page whatever the keyspace. One run per id: copies of the same resync (one per
 * partition) wait for it, and a finished id is remembered so a late copy is a no-op.
 */
export class ResyncRunner {
  private readonly running = new Map<string, Promise<ResyncOutcome>>();
  /** Runs of different ids one after the other: they share one progress record. */
  private queue: Promise<unknown> = Promise.resolve();
  private current: ResyncProgress | undefined;
  private readonly now: () => Date;

  constructor(private readonly deps: ResyncRunnerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Reads the newest resync from Redis, so a restarted invalidator reports one still under way. */
  async load(): Promise<void> {
    this.current = await this.deps.store.progress();
  }

  get continuity(): ContinuityState {
    return continuityOf(this.current);
  }

  run(job: ResyncJob, control: ResyncControl): Promise<ResyncOutcome> {
    let run = this.running.get(job.id);
    if (!run) {
      run = this.queue
        .catch(() => undefined)
        .then(() => this.execute(job, control))
        .finally(() => this.running.delete(job.id));
      this.queue = run;
      this.running.set(job.id, run);
    }
    return run;
  }

  private async execute(job: ResyncJob, control: ResyncControl): Promise<ResyncOutcome> {
    const { store, logger } = this.deps;
    const finished = await store.finished(job.id);
    if (finished !== undefined) return { status: 'done', keysDropped: finished };
    const recovery = isEmpty(job.recovery) ? await store.recordedRecovery() : job.recovery;
    if (!recovery || isEmpty(recovery))
      throw new ResyncError(
        `resync ${job.id}: no recovery action, neither in the event nor recorded by the region's CDC reader; ` +
          'start the reader once with its key rules (it records the action), and the resync runs on its next attempt',
      );
    const masters = [...this.deps.masters()].sort((a, b) => nodeName(a).localeCompare(nodeName(b)));
    const nodes = masters.map(nodeName).join(',');
    const saved = await store.progress();
    let p: ResyncProgress;
    if (saved?.id === job.id && saved.state === 'resyncing') {
      p = saved.nodes === nodes ? saved : { ...saved, node: 0, cursor: '0', nodes };
      logger.info({ resync: job.id, step: p.step, node: p.node, keysDropped: p.keysDropped }, 'resuming resync');
    } else {
      p = {
        id: job.id,
        reason: job.reason,
        detail: job.detail,
        state: 'resyncing',
        startedAt: this.now().toISOString(),
        keysDropped: 0,
        step: 0,
        node: 0,
        cursor: '0',
        nodes,
      };
      await store.save(p);
      logger.warn({ resync: job.id, reason: job.reason, detail: job.detail }, 'resync started');
      this.deps.onStarted?.(job);
    }
    this.current = p;
    const started = Date.parse(p.startedAt) || this.now().getTime();

    if (p.step === 0) {
      p.keysDropped += await this.drop(job.id, {
        keys: recovery.keys,
        tags: recovery.tags,
        versions: recovery.versions,
      });
      p.step = 1;
      await store.save(p);
    }
    // A saved cursor of "0" always means "this node from its start": a finished node moves
    // the position on before it is saved, so a resume never scans a finished node again.
    while (p.step <= recovery.patterns.length) {
      const pattern = recovery.patterns[p.step - 1]!;
      while (p.node < masters.length) {
        const master = masters[p.node]!;
        do {
          if (!control.isRunning()) return { status: 'interrupted' };
          const [next, keys] = await master.scan(p.cursor, 'MATCH', pattern, 'COUNT', this.deps.pageSize);
          if (keys.length > 0) p.keysDropped += await this.drop(job.id, { keys });
          p.cursor = next;
          if (next !== '0') await store.save(p);
          await control.heartbeat();
        } while (p.cursor !== '0');
        p.node++;
        await store.save(p);
      }
      p.step++;
      p.node = 0;
      await store.save(p);
    }
    p.state = 'done';
    p.finishedAt = this.now().toISOString();
    await store.save(p);
    await store.markFinished(job.id, p.keysDropped);
    const seconds = (this.now().getTime() - started) / 1000;
    logger.warn({ resync: job.id, reason: job.reason, keysDropped: p.keysDropped, seconds }, 'resync finished');
    this.deps.onFinished?.(job, p.keysDropped, seconds);
    return { status: 'done', keysDropped: p.keysDropped };
  }

  /** Applies one page as an ordinary event, so leases, tags and cluster slots are handled as always. */
  private async drop(id: string, ops: { keys?: string[]; tags?: string[]; versions?: string[] }): Promise<number> {
    const event = create(InvalidationEventSchema, { id, operation: Operation.MANUAL, ...ops });
    if (event.keys.length + event.tags.length + event.versions.length === 0) return 0;
    const result = await this.deps.apply([event]);
    const failure = result.failed[0];
    if (failure) throw failure.error;
    return result.keysUnlinked;
  }
}

function isEmpty(r: RecoveryAction): boolean {
  return r.keys.length + r.tags.length + r.versions.length + r.patterns.length === 0;
}

function nodeName(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}
