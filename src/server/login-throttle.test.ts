import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.ts';

describe('LoginThrottle', () => {
  it('refuses after the allowed failures per connection and per address, and refills over the window', () => {
    let now = 0;
    const throttle = new LoginThrottle({ loginAttemptsPerConnection: 2, loginAttemptsPerAddress: 3, loginAttemptWindowMs: 60_000 }, { monotonic: () => now });
    const [a, b] = [{}, {}];
    expect(throttle.waitMs(a, '10.0.0.1')).toBe(0);
    throttle.failed(a, '10.0.0.1');
    throttle.failed(a, '10.0.0.1');
    expect(throttle.waitMs(a, '10.0.0.1')).toBeCloseTo(30_000); // one of 2 attempts back per 30 s
    expect(throttle.waitMs(b, '10.0.0.1')).toBe(0);
    throttle.failed(b, '10.0.0.1');
    expect(throttle.waitMs(b, '10.0.0.1')).toBeCloseTo(20_000); // the address used its 3
    expect(throttle.waitMs(b, '10.0.0.2')).toBe(0);
    now += 20_000;
    expect(throttle.waitMs(b, '10.0.0.1')).toBe(0);
    expect(throttle.waitMs(a, '10.0.0.1')).toBeCloseTo(10_000);
  });

  it('reserves before the work: simultaneous attempts wait for those in progress, and at most the budget get through', async () => {
    const throttle = new LoginThrottle({ loginAttemptsPerConnection: 100, loginAttemptsPerAddress: 2, loginAttemptWindowMs: 600_000 }, { monotonic: () => 0 });
    const connections = Array.from({ length: 5 }, () => ({}));
    const outcomes: number[] = [];
    const attempts = connections.map((c) => throttle.reserve(c, '10.0.0.1').then((waitMs) => (outcomes.push(waitMs), waitMs)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcomes).toEqual([0, 0]); // two in progress, three waiting for them
    throttle.settle(connections[0] as object, '10.0.0.1', true); // a success gives its token back: one more goes
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcomes).toEqual([0, 0, 0]);
    throttle.settle(connections[1] as object, '10.0.0.1', false);
    throttle.settle(connections[2] as object, '10.0.0.1', false); // the last one in progress failed: the rest are refused
    const waits = await Promise.all(attempts);
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(waits[3]).toBeGreaterThan(0);
    expect(waits[4]).toBeGreaterThan(0);
  });
});
