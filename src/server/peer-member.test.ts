import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../protocol/index.ts';
import { ReplayGate } from './peer-member.ts';

const message = (msgid: number): Buffer => encodeFrame({ type: 'message', from: 'alice', room: 'lobby', text: `m${msgid}`, ts: 1, msgid });
const presence = encodeFrame({ type: 'presence', user: 'carol', status: 'online' });

describe('ReplayGate', () => {
  it('releases what it held in arrival order, without the messages the replay already has', () => {
    const gate = new ReplayGate(10_000);
    for (const bytes of [message(4), presence, message(5), message(6)]) gate.hold(bytes);
    expect(gate.release(new Set([3, 4, 5])).map((bytes) => bytes.toString())).toEqual([presence.toString(), message(6).toString()]);
    expect(gate.release(new Set())).toEqual([]);
  });

  it('is bounded: past its bytes it drops what it held and says it overflowed', () => {
    const one = message(1);
    const gate = new ReplayGate(one.length * 2);
    gate.hold(one);
    gate.hold(message(2));
    expect(gate.overflowed).toBe(false);
    gate.hold(message(3));
    expect(gate.overflowed).toBe(true);
    expect(gate.release(new Set())).toEqual([]);
  });
});
