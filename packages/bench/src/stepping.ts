// Decides whether a rate step was sustained (lag bounded). Pure.

export interface StepObservation {
  /** changes/s asked for */
  target: number;
  /** changes/s the primary actually committed */
  achieved: number;
  /** per-sample count of committed-but-not-yet-invalidated changes (worst region), sampled evenly over the step */
  backlog: readonly number[];
  /** commit→applied p99 (ms) over the step, worst region */
  p99: number | null;
  /** p99 above this is not "bounded" (default 2000) */
  maxP99Ms?: number;
}

export interface StepVerdict {
  primaryKeptUp: boolean;
  fabricKeptUp: boolean;
  reason: string;
}

export function judgeStep({ target, achieved, backlog, p99, maxP99Ms = 2000 }: StepObservation): StepVerdict {
  const primaryKeptUp = achieved >= 0.95 * target;
  if (backlog.length < 2) return { primaryKeptUp, fabricKeptUp: false, reason: 'too few samples' };
  if (p99 === null) return { primaryKeptUp, fabricKeptUp: false, reason: 'no invalidation observed' };
  if (p99 > maxP99Ms)
    return { primaryKeptUp, fabricKeptUp: false, reason: `p99 ${p99.toFixed(0)} ms > ${maxP99Ms} ms` };
  const growing = backlogGrowth(backlog, achieved);
  if (growing) return { primaryKeptUp, fabricKeptUp: false, reason: growing };
  return { primaryKeptUp, fabricKeptUp: true, reason: 'bounded' };
}

/**
 * Why a backlog sampled evenly over a run is not bounded, or undefined when it is: its last
 * third above a second of changes (`rate`) and half again its first third.
 */
export function backlogGrowth(backlog: readonly number[], rate: number): string | undefined {
  const third = Math.max(1, Math.floor(backlog.length / 3));
  const head = mean(backlog.slice(0, third));
  const tail = mean(backlog.slice(-third));
  // One second of changes in flight is what a bounded 1 s lag looks like.
  const allowance = Math.max(50, rate * 1.0);
  return tail > allowance && tail > head * 1.5 ? `backlog growing ${head.toFixed(0)} → ${tail.toFixed(0)}` : undefined;
}

/** Next rate to try, or null to stop: doubles until a step fails or the cap. */
export function nextRate(current: number, verdict: StepVerdict, cap: number): number | null {
  if (!verdict.fabricKeptUp || !verdict.primaryKeptUp) return null;
  const next = current * 2;
  return next > cap ? null : next;
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}
