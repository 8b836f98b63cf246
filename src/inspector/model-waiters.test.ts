import { describe, expect, it } from 'vitest';
import { ModelWaiters } from './model-waiters.ts';
import { SessionModel } from './session-model.ts';
import { EventScript } from '../../test-support/event-script.ts';

/** Applies `script`'s events to `model` and tells the waiters after each, as the pipeline does. */
function play(model: SessionModel, waiters: ModelWaiters, script: EventScript): void {
  for (const event of script.events) {
    model.apply(event);
    waiters.applied();
  }
}

describe('ModelWaiters', () => {
  it('resolves a wait once an applied event makes its predicate hold, and at once when it already holds', async () => {
    const model = new SessionModel();
    const waiters = new ModelWaiters(model);
    let done = false;
    const connected = waiters.waitFor((m) => m.counters.connections === 1, 5_000, 'a connection').then(() => (done = true));
    play(model, waiters, new EventScript().listening());
    await Promise.resolve();
    expect(done).toBe(false);
    play(model, waiters, new EventScript().connect(1));
    await connected;
    await waiters.waitFor((m) => m.counters.connections === 1, 5_000, 'a connection');
  });

  it('rejects after its timeout naming what it waited for, or with the reason its signal aborts with', async () => {
    const waiters = new ModelWaiters(new SessionModel());
    await expect(waiters.waitFor(() => false, 20, 'the impossible')).rejects.toThrow('timed out after 20 ms waiting for the impossible');
    const abort = new AbortController();
    const waiting = waiters.waitFor(() => false, 5_000, 'the impossible', abort.signal);
    abort.abort(new Error('quit'));
    await expect(waiting).rejects.toThrow('quit');
    const aborted = AbortSignal.abort(new Error('already quit'));
    await expect(waiters.waitFor(() => true, 5_000, 'anything', aborted)).rejects.toThrow('already quit');
  });
});
