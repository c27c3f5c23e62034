// Rate-controlled UPDATEs of public.users at the primary, `batch` rows per transaction,
// over several connections. Reports each commit (client time right after COMMIT returned).
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

export class Writer {
  constructor(url, ids, connections = 16) {
    this.url = url;
    this.ids = ids;
    this.connections = connections;
    this.cursor = 0;
    this.seq = 0;
    this.clients = [];
  }

  async open() {
    for (let i = 0; i < this.connections; i++) {
      const c = new pg.Client({ connectionString: this.url });
      await c.connect();
      this.clients.push(c);
    }
  }

  async close() {
    await Promise.all(this.clients.map((c) => c.end().catch(() => {})));
  }

  nextIds(n) {
    const out = [];
    for (let i = 0; i < n; i++) {
      out.push(this.ids[this.cursor]);
      this.cursor = (this.cursor + 1) % this.ids.length;
    }
    return out;
  }

  /**
   * Runs for durationMs at `rate` changes/s. onCommit(ids, names, tCommit) after each
   * transaction; afterCommit (optional, awaited) runs in the write path (sync-DEL baseline).
   */
  async run({ rate, batch, durationMs, onCommit, afterCommit, stop }) {
    const txnRate = rate / batch;
    const start = performance.now();
    let issued = 0;
    let changes = 0;
    let errors = 0;
    const worker = async (client) => {
      for (;;) {
        const now = performance.now();
        const elapsed = now - start;
        if (elapsed >= durationMs || stop?.()) return;
        const due = Math.floor((elapsed / 1000) * txnRate) + 1;
        if (issued >= due) {
          await sleep(Math.max(1, ((issued / txnRate) * 1000) - elapsed));
          continue;
        }
        issued++;
        const ids = this.nextIds(batch);
        const names = ids.map(() => `v${++this.seq}`);
        try {
          if (batch === 1) await client.query('update users set name = $2 where id = $1', [ids[0], names[0]]);
          else await client.query('update users u set name = v.name from unnest($1::bigint[], $2::text[]) as v(id, name) where u.id = v.id', [ids, names]);
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
