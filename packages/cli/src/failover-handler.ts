import type { Sandbox } from '@fabric/sandbox';
import type { Logger } from 'pino';
import { startControlPlane, waitForControlPlane } from './control-plane-worker.js';
import { FAILOVER_SIGNAL, readFailoverRequest, writeFailoverProgress } from './failover-request.js';
import { waitForWorkers } from './worker-readiness.js';
import { startReaders } from './workers.js';

/**
 * `fabric up`'s side of a failover: on the signal, run the sandbox's failover, then start
 * the readers again (the heartbeat writer moves with --home) and the control plane (its
 * configuration names the home region), and report every step to the request's file.
 */
export function handleFailovers(sandbox: Sandbox, rulesPath: string, logger: Logger): () => void {
  let running: Promise<void> | undefined;
  const onSignal = () => {
    const request = readFailoverRequest(sandbox.config.stateDir);
    if (!request) return void logger.warn(`${FAILOVER_SIGNAL} without a failover request; ignored`);
    if (running) {
      writeFailoverProgress(sandbox.config.stateDir, {
        id: request.id,
        to: request.to,
        state: 'failed',
        steps: [],
        error: 'another failover is still running',
      });
      return;
    }
    running = (async () => {
      const steps: Parameters<typeof writeFailoverProgress>[1]['steps'] = [];
      const progress = (state: 'running' | 'done' | 'failed', extra: { error?: string } = {}) =>
        writeFailoverProgress(sandbox.config.stateDir, { id: request.id, to: request.to, state, steps, ...extra });
      progress('running');
      const started = Date.now();
      try {
        logger.warn({ to: request.to }, 'failover requested');
        const report = await sandbox.failover(request.to, (step) => {
          steps.push(step);
          progress('running');
        });
        await sandbox.removeWorkers('cdc-reader');
        startReaders(sandbox, rulesPath);
        await sandbox.removeWorkers('control-plane');
        startControlPlane(sandbox);
        await waitForWorkers(sandbox.endpoints, logger);
        await waitForControlPlane(sandbox.endpoints);
        writeFailoverProgress(sandbox.config.stateDir, {
          id: request.id,
          to: request.to,
          state: 'done',
          steps,
          // The whole failover, the workers' restart included: until then the fabric is not whole.
          report: { ...report, totalMs: Date.now() - started },
        });
        logger.warn({ from: report.from, to: report.to, ms: report.totalMs }, 'failover done');
      } catch (err) {
        logger.error({ err }, 'failover failed');
        progress('failed', { error: err instanceof Error ? err.message : String(err) });
      } finally {
        running = undefined;
      }
    })();
  };
  process.on(FAILOVER_SIGNAL, onSignal);
  return () => process.off(FAILOVER_SIGNAL, onSignal);
}
