import { describe, expect, it } from 'vitest';
import { PAYLOAD_BYTES, nextPayload, payloadText, writePayload, type PayloadFields } from './payload.ts';

const fresh = (): PayloadFields => ({ step: -1, sender: -1, seq: -1, sentUs: -1 });

describe('payload', () => {
  it('is PAYLOAD_BYTES of printable ASCII with the fields in fixed places', () => {
    const text = payloadText(3, 2, 123, 12_345_678);
    expect(text).toHaveLength(PAYLOAD_BYTES);
    expect(text.startsWith('|B03 s2 00000123 000012345678 x')).toBe(true);
    expect(/^[\x20-\x7e]+$/.test(text)).toBe(true);
  });

  it('is found and decoded inside a chatlab frame, an IRC line and a raw line', () => {
    const text = payloadText(7, 3, 99_999_999, 999_999_999_999);
    const lines = [JSON.stringify({ type: 'message', from: 'u1', text, ts: 1, room: 'lobby' }) + '\n', `:u1!~u1@127.0.0.1 PRIVMSG #bench :${text}\r\n`, `${text}\n`];
    for (const line of lines) {
      const buf = Buffer.from(line);
      const out = fresh();
      const next = nextPayload(buf, 0, buf.length, out);
      expect(next).toBeGreaterThan(0);
      expect(out).toEqual({ step: 7, sender: 3, seq: 99_999_999, sentUs: 999_999_999_999 });
      expect(nextPayload(buf, next, buf.length, fresh())).toBe(-1);
    }
  });

  it('finds every payload of a read, skips a `|` that is not a header, and ignores a cut header', () => {
    const a = payloadText(1, 0, 5, 100);
    const b = payloadText(1, 1, 6, 200);
    const buf = Buffer.from(`not|ours\n${a}\n${b}\n`);
    const seen: number[] = [];
    const out = fresh();
    for (let at = nextPayload(buf, 0, buf.length, out); at !== -1; at = nextPayload(buf, at, buf.length, out)) {
      seen.push(out.seq);
    }
    expect(seen).toEqual([5, 6]);
    const cut = Buffer.from(a.slice(0, 20));
    expect(nextPayload(cut, 0, cut.length, fresh())).toBe(-1);
  });

  it('writes into a larger buffer at an offset', () => {
    const buf = Buffer.alloc(PAYLOAD_BYTES + 10, 0x20);
    writePayload(buf, 5, 42, 9, 1, 2);
    const out = fresh();
    expect(nextPayload(buf, 0, buf.length, out)).toBe(5 + 29);
    expect(out).toEqual({ step: 42, sender: 9, seq: 1, sentUs: 2 });
  });
});
