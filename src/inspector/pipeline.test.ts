import { describe, expect, it } from 'vitest';
import type { WireEvent } from './events.ts';
import { EventPipeline } from './pipeline.ts';
import { SessionModel } from './session-model.ts';
import type { EventSink } from './sinks.ts';
import { EventScript } from '../../test-support/event-script.ts';

/** A source's credit account, as the pipeline reports it. */
class Credits {
  total = 0;
  consumed(bytes: number): void {
    this.total += bytes;
  }
}

/** A sink that notes each event's kind and the credit the source had when the sink got it. */
class NotingSink implements EventSink {
  readonly seen: Array<{ kind: WireEvent['kind']; credited: number }> = [];
  constructor(private readonly credits: Credits) {}
  applied(event: WireEvent): void {
    this.seen.push({ kind: event.kind, credited: this.credits.total });
  }
}

describe('EventPipeline', () => {
  it('applies events later, in order, and hands each to every sink in order', async () => {
    const model = new SessionModel();
    const credits = new Credits();
    const first = new NotingSink(credits);
    const second = new NotingSink(credits);
    const pipeline = new EventPipeline(model, credits, [first, second]);
    const script = new EventScript().listening().connect(1).c2s(1, { type: 'ping' }).fin(1, 'c2s');
    for (const event of script.events) pipeline.push(event);
    expect(first.seen).toEqual([]); // nothing happens in the source's own tick
    await pipeline.idle();
    expect(first.seen.map((s) => s.kind)).toEqual(['listening', 'open', 'upstream', 'data', 'end']);
    expect(second.seen).toEqual(first.seen);
  });

  it('credits data bytes back to the source only once every sink had the event, and counts what it holds', async () => {
    const model = new SessionModel();
    const credits = new Credits();
    const sink = new NotingSink(credits);
    const pipeline = new EventPipeline(model, credits, [sink]);
    const frame = '{"type":"say","text":"hi"}\n';
    const script = new EventScript().listening().connect(1).bytes(1, 'c2s', frame).bytes(1, 'c2s', frame);
    for (const event of script.events) pipeline.push(event);
    expect(pipeline.backlog).toEqual({ events: 5, bytes: 2 * frame.length });
    await pipeline.idle();
    // When the sink got each data event, its bytes were not credited yet.
    expect(sink.seen.filter((s) => s.kind === 'data').map((s) => s.credited)).toEqual([0, frame.length]);
    expect(credits.total).toBe(2 * frame.length);
    expect(pipeline.backlog).toEqual({ events: 0, bytes: 0 });
  });
});
