import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.ts';

describe('LoginThrottle', () => {
  it('refuses after the allowed failures per connection and per address, and refills over the window', () => {
    let now = 0;
    const throttle = new LoginThrottle({ loginAttemptsPerConnection: 2, loginAttemptsPerAddress: 3, loginAttemptWindowMs: 60_000 }, () => now);
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
});
