import { describe, expect, it } from 'vitest';
import { decodeDatagram } from './datagram.ts';

describe('decodeDatagram', () => {
  it('takes the whole datagram as one frame, with or without a trailing newline', () => {
    expect(decodeDatagram(Buffer.from('{"type":"say","text":"héllo 👋"}'))).toEqual({ ok: true, frame: { type: 'say', text: 'héllo 👋' } });
    expect(decodeDatagram(Buffer.from('{"type":"ping"}\n'))).toEqual({ ok: true, frame: { type: 'ping' } });
  });

  it('refuses what is not one JSON object with a string type, in UTF-8', () => {
    for (const bytes of [Buffer.from('{"type":"ping"}\n{"type":"ping"}'), Buffer.from('[1]'), Buffer.from('{"type":1}'), Buffer.from([0x7b, 0xff, 0x7d])]) {
      expect(decodeDatagram(bytes).ok, bytes.toString('hex')).toBe(false);
    }
  });
});
