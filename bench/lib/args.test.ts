import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.ts';

/** Backlog left by a step of `stepMs` when the server delivers only `share` of the offered rate, in ms of draining. */
const drainMs = (stepMs: number, share: number): number => (stepMs * (1 - share)) / share;

describe('bench arguments', () => {
  it('default steps are long enough that a server 5% short of the offered rate fails on its drain (> 250 ms)', () => {
    const args = parseBenchArgs([]);
    expect(drainMs(args!.stepMs, 0.95)).toBeGreaterThanOrEqual(250);
  });

  it('--step-ms still overrides the default', () => {
    expect(parseBenchArgs(['--step-ms', '3000'])!.stepMs).toBe(3000);
    expect(parseBenchArgs(['--quick'])!.stepMs).toBe(1000);
  });
});
