import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_LIMITS, resolveLimits } from './limits.ts';

describe('resolveLimits', () => {
  it('merges overrides into the defaults', () => {
    expect(resolveLimits({ maxOutputBytes: 1024, loginTimeoutMs: undefined })).toEqual({ ...DEFAULT_SERVER_LIMITS, maxOutputBytes: 1024 });
    expect(DEFAULT_SERVER_LIMITS.maxOutputBytes).toBe(8 * 1024 * 1024);
  });

  it('rejects unknown names and unusable values', () => {
    expect(() => resolveLimits({ maxOutputBytes: 0 })).toThrow(/maxOutputBytes/);
    expect(() => resolveLimits({ rateLimitBurst: Number.NaN })).toThrow(/rateLimitBurst/);
    expect(() => resolveLimits({ nonsense: 1 } as never)).toThrow(/unknown server limit/);
    expect(resolveLimits({ keepAliveMs: 0 }).keepAliveMs).toBe(0);
  });
});
