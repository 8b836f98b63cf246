import { describe, expect, it } from 'vitest';
import { FrameTooLargeError, MAX_FRAME_BYTES, encodeFrame, type RawFrame } from './index.ts';

/** A `say` frame whose encoding (newline included) is exactly `bytes` long. */
function sayOfEncodedLength(bytes: number): RawFrame {
  const overhead = Buffer.byteLength(JSON.stringify({ type: 'say', text: '' }) + '\n');
  return { type: 'say', text: 'a'.repeat(bytes - overhead) };
}

describe('encodeFrame', () => {
  const cases: { name: string; frame: RawFrame; wire: string }[] = [
    { name: 'compact JSON then a newline', frame: { type: 'ping' }, wire: '{"type":"ping"}\n' },
    {
      name: 'fields in insertion order, no spaces',
      frame: { type: 'login', user: 'alice', password: 'wonderland', id: 1 },
      wire: '{"type":"login","user":"alice","password":"wonderland","id":1}\n',
    },
    { name: 'emoji stays raw UTF-8 (no \\u escapes)', frame: { type: 'say', text: 'hello 👋' }, wire: '{"type":"say","text":"hello 👋"}\n' },
    { name: 'a newline inside text is escaped', frame: { type: 'say', text: 'two\nlines\r\n' }, wire: '{"type":"say","text":"two\\nlines\\r\\n"}\n' },
    { name: 'quotes and backslashes are escaped', frame: { type: 'say', text: 'a "b" \\c' }, wire: '{"type":"say","text":"a \\"b\\" \\\\c"}\n' },
    { name: 'undefined fields are left out', frame: { type: 'say', text: 'x', to: undefined }, wire: '{"type":"say","text":"x"}\n' },
  ];

  it.each(cases)('$name', ({ frame, wire }) => {
    const bytes = encodeFrame(frame);
    expect(bytes).toBeInstanceOf(Buffer);
    expect(bytes.toString('utf8')).toBe(wire);
    expect(bytes.equals(Buffer.from(wire, 'utf8'))).toBe(true);
  });

  it('emits exactly one raw newline, as the last byte', () => {
    const bytes = encodeFrame({ type: 'say', text: '\n\n\r\u2028\u2029 end' });
    expect(bytes.indexOf(0x0a)).toBe(bytes.length - 1);
  });

  it('encodes 👋 as its 4 UTF-8 bytes', () => {
    const bytes = encodeFrame({ type: 'say', text: '👋' });
    expect(bytes.includes(Buffer.from([0xf0, 0x9f, 0x91, 0x8b]))).toBe(true);
  });

  const limitCases = [
    { name: 'exactly at the limit (newline included) is accepted', bytes: MAX_FRAME_BYTES, accepted: true },
    { name: 'one byte under the limit is accepted', bytes: MAX_FRAME_BYTES - 1, accepted: true },
    { name: 'one byte over the limit throws FrameTooLargeError', bytes: MAX_FRAME_BYTES + 1, accepted: false },
    { name: 'far over the limit throws FrameTooLargeError', bytes: MAX_FRAME_BYTES * 2, accepted: false },
  ];

  it.each(limitCases)('$name', ({ bytes, accepted }) => {
    const frame = sayOfEncodedLength(bytes);
    if (accepted) {
      expect(encodeFrame(frame).length).toBe(bytes);
      return;
    }
    let thrown: unknown;
    try {
      encodeFrame(frame);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FrameTooLargeError);
    expect((thrown as FrameTooLargeError).byteLength).toBe(bytes);
    expect((thrown as FrameTooLargeError).name).toBe('FrameTooLargeError');
    expect((thrown as Error).message).toContain(String(MAX_FRAME_BYTES));
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    // 4-byte emoji: 16,383 of them fit in text, and the frame overhead pushes it over.
    const overhead = Buffer.byteLength('{"type":"say","text":""}\n');
    const fits = Math.floor((MAX_FRAME_BYTES - overhead) / 4);
    expect(encodeFrame({ type: 'say', text: '👋'.repeat(fits) }).length).toBe(overhead + fits * 4);
    expect(() => encodeFrame({ type: 'say', text: '👋'.repeat(fits + 1) })).toThrow(FrameTooLargeError);
  });
});
