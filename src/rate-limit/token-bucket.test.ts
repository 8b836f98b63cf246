import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate, never above the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, { monotonic: () => now });
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 100; // 10/s → one token per 100 ms
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    now += 60_000;
    expect(bucket.available).toBe(3);
  });

  it('accumulates fractions of a token', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 1, { monotonic: () => now });
    expect(bucket.take()).toBe(true);
    now += 250;
    expect(bucket.take()).toBe(false);
    now += 250;
    expect(bucket.take()).toBe(true);
  });
});
