/** The only time a bucket reads: a monotonic time in ms (the server's `Clock` is one). */
export interface MonotonicClock {
  /** A time in ms that never jumps back when the wall clock is set. */
  monotonic(): number;
}

/** `performance.now()`: the default of every bucket. */
export const PERFORMANCE_CLOCK: MonotonicClock = { monotonic: () => performance.now() };

/**
 * A token bucket: `burst` tokens to start with, refilled continuously at `ratePerSecond`, never
 * above `burst`. Each frame a client sends takes one token; no token, no service.
 */
export class TokenBucket {
  private tokens: number;
  private lastRefill: number;

  /**
   * @param ratePerSecond tokens added per second (the sustained rate).
   * @param burst the bucket's size (the most taken in a quick burst).
   * @param clock its monotonic time; injectable so tests can drive time.
   */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: MonotonicClock = PERFORMANCE_CLOCK,
  ) {
    this.tokens = burst;
    this.lastRefill = clock.monotonic();
  }

  /** Takes one token if there is one; returns whether it did. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Puts back one token taken by {@link take} (never above `burst`). */
  giveBack(): void {
    this.refill();
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /** Whole tokens available right now. */
  get available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Milliseconds until a whole token is available (0 if one is available now). */
  get msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.ratePerSecond) * 1000;
  }

  /** Whether the bucket is full again (nothing remembered: it can be thrown away). */
  get isFull(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  private refill(): void {
    const now = this.clock.monotonic();
    const elapsed = now - this.lastRefill;
    if (elapsed <= 0) return;
    this.lastRefill = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.ratePerSecond);
  }
}
