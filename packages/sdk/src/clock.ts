/**
 * Time as the read-path policies see it. Injected so that timeouts, grace and early refresh
 * can be tested step by step instead of by waiting.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`; the handle cancels it. Timers must not keep the process alive. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

export interface TimerHandle {
  cancel(): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
