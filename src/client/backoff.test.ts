import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles from the initial delay and stops at the maximum', () => {
    const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelay(attempt, noJitter))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('jitter takes a random share off the delay, never more', () => {
    expect(backoffDelay(4, DEFAULT_BACKOFF, () => 0)).toBe(2000);
    expect(backoffDelay(4, DEFAULT_BACKOFF, () => 0.5)).toBe(3000);
    expect(backoffDelay(4, DEFAULT_BACKOFF, () => 0.999_999)).toBe(4000);
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(3, DEFAULT_BACKOFF);
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });
});
