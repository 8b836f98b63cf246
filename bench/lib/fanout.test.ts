import { describe, expect, it } from 'vitest';
import { rawRelay } from '../servers/index.ts';
import { runFanoutLadder } from './fanout.ts';

describe('runFanoutLadder', () => {
  it('measures a small room on the raw relay end to end: everything delivered, in order, drained', async () => {
    const progress: string[] = [];
    const result = await runFanoutLadder(rawRelay, {
      clients: 20,
      senders: 4,
      rates: [200, 400],
      stepMs: 300,
      settleMs: 2000,
      connectBatch: 10,
      warmup: false,
      progress: (line) => progress.push(line),
    });
    expect(result.error, progress.join('\n')).toBeUndefined();
    expect(result.steps).toHaveLength(2);
    for (const step of result.steps) {
      expect(step.broadcasts).toBe((step.offeredRate * 300) / 1000);
      expect(step.expectedDeliveries).toBe(step.broadcasts * 19);
      expect(step.delivered).toBe(step.expectedDeliveries);
      expect(step.missing).toBe(0);
      expect(step.outOfOrder).toBe(0);
      expect(step.clientsLost).toBe(0);
      expect(step.drainMs).not.toBeNull();
      expect(step.p50Ms).toBeGreaterThan(0);
    }
    expect(result.capacity).toBeGreaterThan(0);
  });
});
