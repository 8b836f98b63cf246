/**
 * A {@link Clock} that only moves when a test says so: `advance(ms)` runs the timers that fall due,
 * in order, each at its own time. Rules on time (rate limits, login deadlines, throttling windows)
 * are then tested without real sleeps.
 *
 * ```ts
 * const clock = new ManualClock();
 * clock.setTimer(1_000, () => console.log('due'));
 * clock.advance(999); // nothing
 * clock.advance(1);   // "due"
 * ```
 */
import type { Clock, TimerHandle } from '../src/server/index.ts';

interface ManualTimer {
  due: number;
  /** Creation order: timers due at the same time run in the order they were set. */
  order: number;
  action: () => void;
}

/** A clock for tests that starts at a fixed wall time and moves only through {@link advance}. */
export class ManualClock implements Clock {
  private elapsed = 0;
  private created = 0;
  private readonly pending = new Set<ManualTimer>();

  /** @param epoch the wall time (ms since the epoch) at which the clock starts. */
  constructor(private readonly epoch = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.epoch + this.elapsed;
  }

  monotonic(): number {
    return this.elapsed;
  }

  setTimer(ms: number, action: () => void): TimerHandle {
    const timer: ManualTimer = { due: this.elapsed + Math.max(0, ms), order: this.created++, action };
    this.pending.add(timer);
    return timer;
  }

  clearTimer(timer: TimerHandle | undefined): void {
    if (timer) this.pending.delete(timer as ManualTimer);
  }

  /** Timers set and not yet run or cleared. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due (including ones set meanwhile), in due order. */
  advance(ms: number): void {
    const target = this.elapsed + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.pending.delete(next);
      this.elapsed = next.due;
      next.action();
    }
    this.elapsed = target;
  }

  private nextDue(target: number): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const timer of this.pending) {
      if (timer.due > target) continue;
      if (!next || timer.due < next.due || (timer.due === next.due && timer.order < next.order)) next = timer;
    }
    return next;
  }
}
