/** How a reconnecting client spaces its attempts. */
export interface BackoffPolicy {
  /** Delay before the first retry, in ms. Default 500. */
  initialMs: number;
  /** Longest delay, in ms. Default 30,000. */
  maxMs: number;
  /** Each failed attempt multiplies the delay by this. Default 2. */
  factor: number;
  /**
   * Share of the delay that is random, 0–1 (default 0.5): with 0.5 a 4 s delay becomes 2–4 s.
   * Jitter keeps a classroom of clients from reconnecting in lock-step after a server restart.
   */
  jitter: number;
}

/** The defaults: a first retry after ~0.5 s, doubling to at most 30 s, half of it random. */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 });

/**
 * The delay before reconnect attempt `attempt` (1 = the first retry): exponential, capped, with
 * "equal jitter" (a fixed part plus a random part). `random` returns a number in [0, 1).
 *
 * ```ts
 * backoffDelay(1, DEFAULT_BACKOFF, () => 0.999) // ≈ 500
 * backoffDelay(4, DEFAULT_BACKOFF, () => 0)     // 2000 (of 4000: the random half is 0)
 * ```
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const full = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(full * (1 - jitter) + full * jitter * random());
}
