import { SandboxError } from './errors.js';

export class FailoverError extends SandboxError {
  override readonly name = 'FailoverError';
}

/** One step of a failover, as it is reported while it runs and in the end. */
export interface FailoverStep {
  step: 'fence' | 'catch-up' | 'promote' | 'slots' | 'repoint' | 'rebuild' | 'home';
  region: string;
  ms: number;
  detail: string;
}

export interface FailoverReport {
  from: string;
  to: string;
  steps: FailoverStep[];
  /** Regions whose database had to be made again from the new primary (their slots are gone). */
  rebuilt: string[];
  totalMs: number;
}
