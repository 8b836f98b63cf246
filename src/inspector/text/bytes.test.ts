import { describe, expect, it } from 'vitest';
import { bytesPreview, decodeUtf8Units, hexBytes, hexDump, incompleteUtf8Tail } from './bytes.ts';

describe('bytes views', () => {
  it('decodes UTF-8 per code point with its bytes, and flags invalid bytes', () => {
    const units = decodeUtf8Units(Buffer.concat([Buffer.from('a👋'), Buffer.from([0xff, 0xc3])]));
    expect(units.map((u) => (u.ok ? `${u.codePoint.toString(16)}:${u.bytes.toString('hex')}@${u.offset}` : `bad:${u.byte.toString(16)}@${u.offset}`))).toEqual([
      '61:61@0',
      '1f44b:f09f918b@1',
      'bad:ff@5',
      'bad:c3@6',
    ]);
  });

  it('rejects overlong and surrogate encodings', () => {
    expect(decodeUtf8Units(Buffer.from([0xe0, 0x80, 0xaf])).every((u) => !u.ok)).toBe(true);
    expect(decodeUtf8Units(Buffer.from([0xed, 0xa0, 0x80])).every((u) => !u.ok)).toBe(true);
  });

  it('dumps hex with offsets and a printable column', () => {
    expect(hexDump(Buffer.from('{"type":"say"}\n'))).toEqual(['0000  7B 22 74 79 70 65 22 3A  22 73 61 79 22 7D 0A     {"type":"say"}.']);
    expect(hexDump(Buffer.alloc(20))).toHaveLength(2);
  });

  it('previews text as text and binary as hex', () => {
    expect(bytesPreview(Buffer.from('PING :x\r\n'))).toBe('PING :x\\r\\n');
    expect(bytesPreview(Buffer.from([0, 1, 2, 3]))).toBe('00 01 02 03');
  });
});

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// A TLS 1.3 application data record as it crosses the wire: a clear 5-byte header, then ciphertext.
const tlsRecord = Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x44]), pseudoRandomBytes(0x44, 13)]);

describe('bytesPreview', () => {
  it.each([
    { name: 'ASCII text with CR LF', bytes: Buffer.from('PING :x\r\n'), max: 24, expected: 'PING :x\\r\\n' },
    { name: 'emoji text', bytes: Buffer.from('hi 👋 🎉 bye\n'), max: 24, expected: 'hi 👋 🎉 bye\\n' },
    { name: 'CJK text', bytes: Buffer.from('你好，世界\n'), max: 24, expected: '你好，世界\\n' },
    { name: 'CJK text longer than the preview', bytes: Buffer.from('日本語のテキストです。'), max: 24, expected: '日本語のテキスト…' },
    { name: 'a CJK character cut by the preview', bytes: Buffer.from('a日本語のテキストです。'), max: 24, expected: 'a日本語のテキス…' },
    { name: 'an emoji cut at the preview boundary', bytes: Buffer.from('x'.repeat(22) + '👋 and more'), max: 24, expected: `${'x'.repeat(22)}…` },
    { name: 'a CJK character cut at the boundary', bytes: Buffer.from('ab你好'), max: 4, expected: 'ab…' },
    { name: 'a read that ends inside a code point', bytes: Buffer.from('hello 👋').subarray(0, 8), max: 24, expected: 'hello \\xf0\\x9f' },
    { name: 'mostly text with one byte that is not UTF-8', bytes: Buffer.from([...Buffer.from('price: 10'), 0xa3, ...Buffer.from(' only\n')]), max: 24, expected: 'price: 10\\xa3 only\\n' },
    { name: 'C0 controls', bytes: Buffer.from([0, 1, 2, 3]), max: 24, expected: '00 01 02 03' },
    { name: 'a ClientHello', bytes: Buffer.from('16030101580100015403039a', 'hex'), max: 24, expected: '16 03 01 01 58 01 00 01 54 03 03 9A' },
    { name: 'a TLS record', bytes: tlsRecord, max: 24, expected: `${hexBytes(tlsRecord.subarray(0, 24))}…` },
    { name: 'nothing', bytes: Buffer.alloc(0), max: 24, expected: '' },
  ])('$name', ({ bytes, max, expected }) => {
    expect(bytesPreview(bytes, max)).toBe(expected);
  });

  it('shows random bytes as hex, never as mojibake', () => {
    for (let seed = 1; seed <= 2_000; seed++) {
      const bytes = pseudoRandomBytes(24 + (seed % 200), seed);
      for (const max of [24, 120]) {
        const preview = bytesPreview(bytes, max);
        expect(preview, `seed ${seed}, max ${max}`).toBe(hexBytes(bytes.subarray(0, max)) + (bytes.length > max ? '…' : ''));
      }
    }
  });

  it('finds an incomplete code point at the end, and only then', () => {
    expect(incompleteUtf8Tail(Buffer.from('a👋').subarray(0, 3))).toBe(2);
    expect(incompleteUtf8Tail(Buffer.from('a你').subarray(0, 2))).toBe(1);
    expect(incompleteUtf8Tail(Buffer.from('a你'))).toBe(0);
    expect(incompleteUtf8Tail(Buffer.from('abc'))).toBe(0);
    expect(incompleteUtf8Tail(Buffer.from([0x80, 0x80, 0x80, 0x80]))).toBe(0);
  });
});
