import { describe, expect, it } from 'vitest';
import { ManualClock } from './manual-clock.ts';

describe('ManualClock', () => {
  it('runs timers only when advanced, in due order, each at its own time, including ones set meanwhile', () => {
    const clock = new ManualClock(1_000);
    const log: string[] = [];
    clock.setTimer(20, () => log.push(`b@${clock.monotonic()}`));
    clock.setTimer(10, () => {
      log.push(`a@${clock.monotonic()}`);
      clock.setTimer(5, () => log.push(`c@${clock.monotonic()}`)); // due at 15, before b
    });
    clock.setTimer(20, () => log.push(`d@${clock.monotonic()}`)); // same time as b: set after it, runs after it
    const cancelled = clock.setTimer(12, () => log.push('never'));
    clock.clearTimer(cancelled);
    clock.advance(9);
    expect(log).toEqual([]);
    clock.advance(11);
    expect(log).toEqual(['a@10', 'c@15', 'b@20', 'd@20']);
    expect(clock.now()).toBe(1_020);
    expect(clock.pendingTimers).toBe(0);
  });
});
