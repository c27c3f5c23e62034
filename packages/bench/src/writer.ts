// Rate-controlled UPDATEs of public.users at the primary, `batch` rows per transaction,
// over several connections. Reports each commit (client time right after COMMIT returned).

import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** Called after each transaction with its ids, the names written and performance.now() right after COMMIT. */
export type CommitHook = (ids: number[], names: string[], tCommit: number) => void;
/** Like CommitHook, but awaited in the write path (the sync-DEL baseline). */
export type AfterCommit = (ids: number[], names: string[], tCommit: number) => Promise<void>;

export interface WriteRun {
  /** changes/s */
  rate: number;
  /** rows per transaction */
  batch: number;
  durationMs: number;
  onCommit?: CommitHook;
  afterCommit?: AfterCommit;
  /** ends the run early when it returns true */
  stop?: () => boolean;
}

export interface WriteResult {
  changes: number;
  errors: number;
  elapsedMs: number;
  achievedRate: number;
}

export class Writer {
  private cursor = 0;
  private seq = 0;
  private readonly clients: pg.Client[] = [];

  constructor(
    private readonly url: string,
    private readonly ids: readonly number[],
    private readonly connections = 16,
  ) {
    if (ids.length === 0) throw new Error('Writer needs at least one id');
  }

  async open(): Promise<void> {
    for (let i = 0; i < this.connections; i++) {
      const c = new pg.Client({ connectionString: this.url });
      await c.connect();
      this.clients.push(c);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.end().catch(() => {})));
  }

  private nextIds(n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      out.push(this.ids[this.cursor]!);
      this.cursor = (this.cursor + 1) % this.ids.length;
    }
    return out;
  }

  /** Runs for durationMs at `rate` changes/s. */
  async run({ rate, batch, durationMs, onCommit, afterCommit, stop }: WriteRun): Promise<WriteResult> {
    const txnRate = rate / batch;
    const catchUp = Math.max(1, Math.ceil(txnRate * 0.2));
    const start = performance.now();
    let issued = 0;
    let changes = 0;
    let errors = 0;
    const worker = async (client: pg.Client): Promise<void> => {
      for (;;) {
        const now = performance.now();
        const elapsed = now - start;
        if (elapsed >= durationMs || stop?.()) return;
        const due = Math.floor((elapsed / 1000) * txnRate) + 1;
        // Behind schedule (a stalled machine), the writer drops the slots it missed beyond
        // 200 ms worth instead of bursting to catch up: a burst at several times the rate
        // would be measured as latency at the target rate. The achieved rate shows the loss.
        if (due - issued > catchUp) issued = due - catchUp;
        if (issued >= due) {
          await sleep(Math.max(1, (issued / txnRate) * 1000 - elapsed));
          continue;
        }
        issued++;
        const ids = this.nextIds(batch);
        const names = ids.map(() => `v${++this.seq}`);
        try {
          if (batch === 1) await client.query('update users set name = $2 where id = $1', [ids[0], names[0]]);
          else
            await client.query(
              'update users u set name = v.name from unnest($1::bigint[], $2::text[]) as v(id, name) where u.id = v.id',
              [ids, names],
            );
          const t = performance.now();
          changes += ids.length;
          onCommit?.(ids, names, t);
          if (afterCommit) await afterCommit(ids, names, t);
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(this.clients.map(worker));
    const elapsedMs = performance.now() - start;
    return { changes, errors, elapsedMs, achievedRate: changes / (elapsedMs / 1000) };
  }
}
