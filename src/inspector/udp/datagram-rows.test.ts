import { describe, expect, it } from 'vitest';
import type { WireEvent } from '../events.ts';
import { SessionModel } from '../session-model.ts';

function datagram(seq: number, fate: 'delivered' | 'lost' | 'duplicate', text: string, dir: 'c2s' | 's2c' = 'c2s'): WireEvent {
  return { kind: 'datagram', t: 10 + seq, conn: 1, dir, seq, bytes: Buffer.from(JSON.stringify({ type: 'say', text })), fate };
}

describe('the model of a UDP session', () => {
  it('marks a late datagram and a duplicate, counts lost ones, and lights no step for them', () => {
    const model = new SessionModel();
    model.applyAll([
      { kind: 'listening', t: 0, listen: { host: '127.0.0.1', port: 7071 }, target: { host: '127.0.0.1', port: 7070 }, framing: 'auto', transport: 'udp' },
      { kind: 'open', t: 1, conn: 1, peer: '127.0.0.1:50000' },
      datagram(2, 'delivered', 'two'),
      datagram(1, 'delivered', 'one'),
      datagram(3, 'delivered', 'three'),
      datagram(3, 'duplicate', 'three'),
      datagram(4, 'lost', 'four'),
    ]);
    expect(model.rows.map((row) => [row.kind, row.label, row.summary])).toEqual([
      ['frame', 'say', '"two"'],
      ['frame', 'say', '"one" (late: datagram #1 arrives after a later one)'],
      ['frame', 'say', '"three"'],
      ['frame', 'say', '"three" (a second copy of datagram #3)'],
      ['lost', '✗ say', 'lost: datagram #4 ("four") was dropped by the inspector and never arrived'],
    ]);
    expect(model.counters).toMatchObject({ lost: 1, duplicates: 1, reads: { c2s: 5, s2c: 0 } });
    expect(model.steps.find((s) => s.step === 6)?.count).toBe(4);
    expect(model.transport).toBe('udp');
  });

  it("shows step 1 at the server's first answer, since there is no accept to show it", () => {
    const model = new SessionModel();
    model.applyAll([
      { kind: 'listening', t: 0, listen: { host: '127.0.0.1', port: 7071 }, target: { host: '127.0.0.1', port: 7070 }, framing: 'auto', transport: 'udp' },
      { kind: 'open', t: 1, conn: 1, peer: '127.0.0.1:50000' },
      { kind: 'datagram', t: 2, conn: 1, dir: 's2c', seq: 1, bytes: Buffer.from('{"type":"pong"}'), fate: 'lost' },
      { kind: 'datagram', t: 3, conn: 1, dir: 's2c', seq: 2, bytes: Buffer.from('{"type":"pong"}'), fate: 'delivered' },
    ]);
    expect(model.rows.map((row) => row.kind)).toEqual(['lost', 'listen', 'frame']);
    expect(model.rows[1]?.summary).toBe('server is listening on 127.0.0.1:7070 (it answered a datagram)');
  });
});
