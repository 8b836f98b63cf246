import { describe, expect, it } from 'vitest';
import { parseTrace, SessionModel, type WireEvent } from '../inspector/index.ts';
import { SessionTrace } from './session-trace.ts';

const events: WireEvent[] = [
  { kind: 'open', t: 1, conn: 1, peer: '127.0.0.1:5' },
  { kind: 'data', t: 2, conn: 1, dir: 'c2s', read: 1, bytes: Buffer.from('{"type":"say","text":"one"}\n') },
  { kind: 'data', t: 3, conn: 1, dir: 'c2s', read: 2, bytes: Buffer.from('{"type":"say","text":"two"}\n') },
];

/** Applies every event to a model and the trace, as the inspector's pipeline does. */
function record(trace: SessionTrace): void {
  const model = new SessionModel({ framing: 'chatlab' });
  for (const event of events) trace.applied(event, model.apply(event));
}

describe('SessionTrace', () => {
  it('is a trace `inspect replay` reads back: the header, then every event as recorded', () => {
    const trace = new SessionTrace();
    record(trace);
    const text = trace.text();
    expect(JSON.parse(text.split('\n')[0] as string)).toMatchObject({ kind: 'trace', version: 1 });
    expect(parseTrace(text)).toEqual(events);
    expect(text).toContain('"decoded":[{"kind":"frame","label":"say"');
  });

  it('keeps the start past its bound, and its header says how many events it left out', () => {
    const trace = new SessionTrace(500);
    record(trace);
    expect(trace.eventCount).toBe(2);
    const text = trace.text();
    expect(JSON.parse(text.split('\n')[0] as string).cut).toMatch(/^only the first 2 events are here: 1 later ones went past the web view's 500 bytes$/);
    expect(parseTrace(text)).toEqual(events.slice(0, 2));
  });
});
