import type { ReplayDeadLettersResponse } from '@fabric/control-plane';

/**
 * Replay progress on stderr: a bar redrawn in place on a terminal, plain lines
 * otherwise (logs and CI keep a readable history).
 */
export class ReplayProgress {
  private drawn = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  update(p: ReplayDeadLettersResponse): void {
    const counts = `${p.dryRun ? 'would replay' : 'replayed'} ${p.replayed}, skipped ${p.skipped}, not replayable ${p.notReplayable}`;
    if (this.out.isTTY) {
      const width = 30;
      const filled = p.total === 0n ? width : Number((p.scanned * BigInt(width)) / p.total);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.scanned}/${p.total} ${counts}\x1b[K`);
      this.drawn = true;
      if (p.done) this.finish();
    } else {
      this.out.write(`replay: scanned ${p.scanned}/${p.total}, ${counts}${p.done ? ' (done)' : ''}\n`);
    }
  }

  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
