import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../protocol/index.ts';
import { DEFAULT_SERVER_LIMITS, MIN_LIST_FRAME_BYTES, resolveLimits } from './limits.ts';

describe('resolveLimits', () => {
  it('merges overrides into the defaults', () => {
    expect(resolveLimits({ maxOutputBytes: 1024, loginTimeoutMs: undefined })).toEqual({ ...DEFAULT_SERVER_LIMITS, maxOutputBytes: 1024 });
    expect(DEFAULT_SERVER_LIMITS.maxOutputBytes).toBe(2 * 1024 * 1024);
  });

  it('keeps the output low-water mark at or below the high-water mark', () => {
    expect(DEFAULT_SERVER_LIMITS.outputLowWaterBytes).toBeLessThan(DEFAULT_SERVER_LIMITS.outputHighWaterBytes);
    // Lowering only the high-water mark takes the low-water mark down with it (half).
    expect(resolveLimits({ outputHighWaterBytes: 1000 })).toMatchObject({ outputHighWaterBytes: 1000, outputLowWaterBytes: 500 });
    expect(resolveLimits({ outputHighWaterBytes: 1000, outputLowWaterBytes: 0 }).outputLowWaterBytes).toBe(0);
    expect(() => resolveLimits({ outputHighWaterBytes: 1000, outputLowWaterBytes: 2000 })).toThrow(/outputLowWaterBytes.*must not exceed.*outputHighWaterBytes/);
    expect(() => resolveLimits({ outputLowWaterBytes: 64 * 1024 * 1024 })).toThrow(/outputLowWaterBytes/);
    expect(() => resolveLimits({ outputStallMs: 0 })).toThrow(/outputStallMs/);
  });

  it('rejects unknown names and unusable values', () => {
    expect(() => resolveLimits({ maxOutputBytes: 0 })).toThrow(/maxOutputBytes/);
    expect(() => resolveLimits({ rateLimitBurst: Number.NaN })).toThrow(/rateLimitBurst/);
    expect(() => resolveLimits({ nonsense: 1 } as never)).toThrow(/unknown server limit/);
    expect(resolveLimits({ keepAliveMs: 0 }).keepAliveMs).toBe(0);
  });

  it('takes booleans for switches and 0 where it means off', () => {
    expect(DEFAULT_SERVER_LIMITS.exemptLoopback).toBe(true);
    expect(resolveLimits({ exemptLoopback: false }).exemptLoopback).toBe(false);
    expect(() => resolveLimits({ exemptLoopback: 0 } as never)).toThrow(/exemptLoopback.*true or false/);
    expect(() => resolveLimits({ maxFileBytes: true } as never)).toThrow(/maxFileBytes/);
    expect(resolveLimits({ historyReplayLimit: 0 }).historyReplayLimit).toBe(0);
    expect(() => resolveLimits({ offlineReplayLimit: 0 })).toThrow(/offlineReplayLimit/);
  });

  it('allows 10,000 connections from loopback by default', () => {
    expect(DEFAULT_SERVER_LIMITS.maxConnections).toBeGreaterThanOrEqual(10_000);
    expect(DEFAULT_SERVER_LIMITS.exemptLoopback).toBe(true);
  });

  it('pages user lists at the frame limit unless lowered, never above it', () => {
    expect(DEFAULT_SERVER_LIMITS.listFrameBytes).toBe(MAX_FRAME_BYTES);
    expect(resolveLimits({ listFrameBytes: MIN_LIST_FRAME_BYTES }).listFrameBytes).toBe(MIN_LIST_FRAME_BYTES);
    expect(() => resolveLimits({ listFrameBytes: MAX_FRAME_BYTES + 1 })).toThrow(/listFrameBytes/);
    expect(() => resolveLimits({ listFrameBytes: MIN_LIST_FRAME_BYTES - 1 })).toThrow(/listFrameBytes/);
    expect(() => resolveLimits({ listFrameBytes: 2000.5 })).toThrow(/listFrameBytes/);
  });
});
