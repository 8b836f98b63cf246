import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../test-support/manual-clock.ts';
import { OutputBudget, type BudgetedOutbox, type InputConsumer } from './output-budget.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const budgets: OutputBudget[] = [];
afterEach(() => budgets.splice(0).forEach((budget) => budget.dispose()));

function budgetOf(high: number, low: number, stallMs = Infinity, clock?: ManualClock): OutputBudget {
  const budget = new OutputBudget({ outputHighWaterBytes: high, outputLowWaterBytes: low, outputStallMs: stallMs }, clock);
  budgets.push(budget);
  return budget;
}

/** A consumer that records when it was resumed and may add output then (as a connection would). */
function consumer(name: string, log: string[], onResume: () => void = () => {}): InputConsumer {
  return {
    resumeInput() {
      log.push(name);
      onResume();
    },
  };
}

/**
 * An outbox as the budget sees it: holds `bytes` (counted in the budget), is waiting for drain
 * since `since` (or not), and when cut off drops its bytes from the budget, as the real one does.
 */
function heldOutbox(budget: OutputBudget, bytes: number, since: number | undefined, cuts: string[], name: string): BudgetedOutbox {
  const outbox = {
    waitingSince: since,
    countedBytes: bytes,
    cutOff() {
      cuts.push(name);
      budget.remove(outbox.countedBytes);
      outbox.countedBytes = 0;
    },
  };
  budget.register(outbox);
  budget.add(bytes);
  return outbox;
}

describe('OutputBudget', () => {
  it('pauses once the total passes the high-water mark and resumes, on a later turn, at the low-water mark', async () => {
    const budget = budgetOf(1000, 400);
    budget.add(1000);
    expect(budget.paused).toBe(false); // at the mark is not past it
    budget.add(1);
    expect(budget.paused).toBe(true);
    budget.remove(500);
    await turn();
    expect(budget.paused).toBe(true); // 501 > 400
    budget.remove(101);
    expect(budget.paused).toBe(true); // never synchronously (we may be inside an outbox's flush)
    await turn();
    expect(budget.paused).toBe(false);
    expect(budget.stats).toEqual({ queuedBytes: 400, peakQueuedBytes: 1001, paused: false, pauses: 1, stallCutoffs: 0 });
  });

  it('resumes parked consumers first come first served, and the ones not reached keep their place', async () => {
    const budget = budgetOf(100, 0);
    const log: string[] = [];
    // b fills the budget again as soon as it is resumed (a connection with a backlog of frames).
    const [a, b, c, d] = [consumer('a', log), consumer('b', log, () => budget.add(200)), consumer('c', log), consumer('d', log)];
    budget.add(200);
    for (const parked of [a, b, c, d]) budget.park(parked);
    budget.remove(200);
    await turn();
    expect(log).toEqual(['a', 'b']); // b paused the budget again: c and d wait
    budget.park(b); // b parks again, behind c and d
    budget.remove(200);
    await turn();
    expect(log).toEqual(['a', 'b', 'c', 'd', 'b']);
  });

  it('cuts off stuck clients, largest first, only when they alone hold the total up, and only as many as needed', async () => {
    const clock = new ManualClock();
    const budget = budgetOf(1000, 500, 40, clock);
    const cuts: string[] = [];
    const since = clock.now();
    heldOutbox(budget, 300, since, cuts, 'stuck-300');
    heldOutbox(budget, 900, since, cuts, 'stuck-900');
    heldOutbox(budget, 200, undefined, cuts, 'reading-200'); // not waiting for drain: never cut
    expect(budget.paused).toBe(true);
    // Checks run every stallMs / 4 = 10 ms; nobody has waited 40 ms before the fourth.
    clock.advance(39);
    expect(cuts).toEqual([]);
    // Total 1400; without the stuck ones 200 ≤ 500: cutting the 900 one is enough (500 left).
    clock.advance(1);
    expect(cuts).toEqual(['stuck-900']);
    await turn();
    expect(budget.paused).toBe(false);
    expect(budget.stats.stallCutoffs).toBe(1);
  });

  it('leaves stuck clients alone while the others still hold the total above the low-water mark', async () => {
    const clock = new ManualClock();
    const budget = budgetOf(1000, 500, 20, clock);
    const cuts: string[] = [];
    heldOutbox(budget, 400, clock.now() - 1000, cuts, 'stuck');
    const reading = heldOutbox(budget, 700, undefined, cuts, 'reading'); // queued, about to be written
    expect(budget.paused).toBe(true);
    clock.advance(60); // twelve checks go by without a cut
    expect(cuts).toEqual([]);
    budget.remove(reading.countedBytes); // its write went out
    await turn();
    expect(budget.paused).toBe(false); // 400 ≤ 500: resumed without cutting anyone
    expect(cuts).toEqual([]);
  });
});
