import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { SkippedChange } from './change-mapper.js';

/**
 * Changes the rules turned into nothing. Counted per table and cause; a table no rule knows
 * (left in the publication, or renamed since the rules were written) is also said once per
 * relation, so a rename that silently stops its invalidations shows in the log, not just
 * in a counter nobody charts. Once per relation id and name, not per change: a busy table
 * would flood the log; renamed again (same id) or dropped and recreated (new id), it is news.
 */
export class SkippedChanges {
  private readonly warned = new Set<string>();

  constructor(
    private readonly counter: Counter<'table' | 'reason'>,
    private readonly logger: Logger,
  ) {}

  record(skipped: SkippedChange): void {
    this.counter.inc({ table: skipped.table, reason: skipped.skip });
    if (skipped.skip !== 'no-rule') return;
    const once = `${skipped.relation.id}:${skipped.table}`;
    if (this.warned.has(once)) return;
    this.warned.add(once);
    this.logger.warn(
      { table: skipped.table, relationId: skipped.relation.id },
      `changes on ${skipped.table} are skipped: no key rule names it; add tables[${JSON.stringify(skipped.table)}] ` +
        'to the rules (a renamed table needs its rule renamed too), or remove the table from the publication',
    );
  }
}
