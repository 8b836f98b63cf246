import { describe, expect, it } from 'vitest';
import type { WireEvent } from './events.ts';
import { EventPipeline } from './pipeline.ts';
import { SessionModel } from './session-model.ts';
import { EventScript } from './test-support/event-script.ts';

describe('EventPipeline', () => {
  it('applies events later, in order, in time-boxed batches', async () => {
    const model = new SessionModel();
    const applied: WireEvent['kind'][] = [];
    const pipeline = new EventPipeline(model, { onApplied: (event) => applied.push(event.kind) });
    const script = new EventScript().listening().connect(1).c2s(1, { type: 'ping' }).fin(1, 'c2s');
    for (const event of script.events) pipeline.push(event);
    expect(applied).toEqual([]); // nothing happens in the proxy's own tick
    await pipeline.idle();
    expect(applied).toEqual(['listening', 'open', 'upstream', 'data', 'end']);
  });

  it('when decoding falls behind, counts new bytes as one gap per direction instead of queueing them', async () => {
    const model = new SessionModel();
    const pipeline = new EventPipeline(model, { maxQueuedBytes: 100, onApplied: () => undefined });
    const script = new EventScript().listening().connect(1);
    for (const event of script.events) pipeline.push(event);
    const frame = '{"type":"say","text":"' + 'x'.repeat(20) + '"}\n'; // 45 bytes
    const more = new EventScript();
    for (let i = 0; i < 10; i++) more.bytes(1, 'c2s', frame);
    for (const event of more.events) pipeline.push(event);
    pipeline.push({ kind: 'end', t: 1e13, conn: 1, dir: 'c2s' });
    await pipeline.idle();
    const rows = model.rows.filter((r) => r.conn === 1).map((r) => r.label);
    // Two frames fit in 100 bytes; the other eight become one gap, reported before the FIN.
    expect(rows).toEqual(['connect', 'say', 'say', 'gap', 'FIN']);
    expect(model.counters.skippedBytes).toBe(8 * Buffer.byteLength(frame));
  });
});
