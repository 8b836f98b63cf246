/**
 * Time as the server's rules see it. Every rule that reads the time or waits (rate limits, login
 * throttling, the login deadline, message timestamps, the output budget's stuck-client check) asks
 * a `Clock` instead of `Date.now()` / `setTimeout`, so the rules can be driven by a manual clock in
 * tests (no real sleeps) and the TCP server runs on {@link SYSTEM_CLOCK}.
 */

/** A pending timer made by {@link Clock.setTimer}; only its clock knows what is inside. */
export type TimerHandle = object;

/** The time source and timers of the server's rules. */
export interface Clock {
  /** Wall-clock time in ms since the epoch (message `ts`, `pong`). */
  now(): number;
  /** A monotonic time in ms, for intervals (rate limits): never jumps back when the wall clock is set. */
  monotonic(): number;
  /** Runs `action` once after `ms`; the timer never keeps the process alive on its own. */
  setTimer(ms: number, action: () => void): TimerHandle;
  /** Cancels a timer made by {@link setTimer} (nothing if it ran or was cancelled already). */
  clearTimer(timer: TimerHandle | undefined): void;
}

function systemSetTimer(ms: number, action: () => void): TimerHandle {
  const timer = setTimeout(action, ms);
  timer.unref();
  return timer;
}

function systemClearTimer(timer: TimerHandle | undefined): void {
  if (timer) clearTimeout(timer as NodeJS.Timeout);
}

/** The real clock: `Date.now()`, `performance.now()` and Node's unref'd timers. The default everywhere. */
export const SYSTEM_CLOCK: Clock = {
  now: Date.now,
  monotonic: () => performance.now(),
  setTimer: systemSetTimer,
  clearTimer: systemClearTimer,
};
