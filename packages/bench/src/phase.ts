// A bench phase whose failure is reported rather than ending the run.
import type { Progress } from './progress.js';

export interface PhaseFailure {
  error: string;
}

export type PhaseOutcome<T> = T | PhaseFailure;

export function failed<T extends object>(outcome: PhaseOutcome<T> | undefined): outcome is PhaseFailure {
  return outcome !== undefined && 'error' in outcome;
}

/** The phase's result, or undefined when it failed or did not run. */
export function succeeded<T extends object>(outcome: PhaseOutcome<T> | undefined): T | undefined {
  return outcome === undefined || failed(outcome) ? undefined : outcome;
}

/** Runs fn; a throw is logged with its stack and returned as { error }. */
export async function runPhase<T>(name: string, progress: Progress, fn: () => Promise<T>): Promise<PhaseOutcome<T>> {
  try {
    return await fn();
  } catch (err) {
    progress(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
