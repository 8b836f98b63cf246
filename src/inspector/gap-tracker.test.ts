import { describe, expect, it } from 'vitest';
import type { WireEvent } from './events.ts';
import { GapTracker } from './gap-tracker.ts';

const data = (conn: number, dir: 'c2s' | 's2c', size: number, t: number): WireEvent => ({ kind: 'data', t, conn, dir, read: t, bytes: Buffer.alloc(size) });

describe('GapTracker', () => {
  it('passes data within the bound, counts the rest per direction and reports it before the connection goes on', () => {
    const tracker = new GapTracker(100);
    const passed: WireEvent[] = [];
    const pass = (event: WireEvent): void => void passed.push(event);
    tracker.admit(data(1, 'c2s', 60, 1), pass);
    tracker.admit(data(1, 'c2s', 60, 2), pass); // over the bound: counted
    tracker.admit(data(1, 's2c', 50, 3), pass); // over too, other direction
    tracker.admit(data(2, 'c2s', 30, 4), pass); // fits
    expect(tracker.pending).toBe(true);
    expect(passed.map((e) => [e.kind, e.t])).toEqual([
      ['data', 1],
      ['data', 4],
    ]);

    tracker.release(90);
    tracker.admit({ kind: 'end', t: 5, conn: 1, dir: 'c2s' }, pass);
    expect(passed.slice(2)).toEqual([
      { kind: 'gap', t: 5, conn: 1, dir: 'c2s', bytes: 60 },
      { kind: 'gap', t: 5, conn: 1, dir: 's2c', bytes: 50 },
      { kind: 'end', t: 5, conn: 1, dir: 'c2s' },
    ]);
    expect(tracker.pending).toBe(false);
  });

  it('hands over every unreported gap on demand', () => {
    const tracker = new GapTracker(0);
    tracker.admit(data(3, 's2c', 7, 1), () => expect.unreachable());
    const gaps: WireEvent[] = [];
    tracker.takeAll(9, (gap) => void gaps.push(gap));
    expect(gaps).toEqual([{ kind: 'gap', t: 9, conn: 3, dir: 's2c', bytes: 7 }]);
    expect(tracker.pending).toBe(false);
  });
});
