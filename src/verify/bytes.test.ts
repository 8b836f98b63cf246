import { describe, expect, test } from 'vitest';
import { byteDiff, firstDifference, showBytes } from './bytes.ts';

describe('showBytes', () => {
  test('shows UTF-8 as text and every control or invalid byte by name', () => {
    expect(showBytes('{"a":1}\n')).toBe('{"a":1}<LF>');
    expect(showBytes('x\r\n\t\u0000\u001b')).toBe('x<CR><LF><TAB><NUL><ESC>');
    expect(showBytes('héllo 👋 世界')).toBe('héllo 👋 世界');
    expect(showBytes(Buffer.from([0x61, 0xff, 0xf0, 0x9f, 0x91]))).toBe('a<0xff><0xf0><0x9f><0x91>');
  });

  test('keeps a JSON escape apart from a raw newline', () => {
    expect(showBytes('"a\\nb"')).toBe('"a\\nb"');
    expect(showBytes('"a\nb"')).toBe('"a<LF>b"');
  });

  test('cuts long input and says how much is left', () => {
    expect(showBytes('a'.repeat(10), 4)).toBe('aaaa…(6 more bytes)');
  });
});

describe('byteDiff', () => {
  test('finds the first differing byte inside a mangled multi-byte character', () => {
    const sent = 'héllo 👋';
    const mangled = Buffer.from(sent, 'utf8').toString('latin1'); // the classic double encoding
    const diff = byteDiff('text', sent, mangled)!;
    expect(diff.firstDifferentByte).toBe(2); // c3 is the same, a9 became 83
    expect(diff.expectedHex).toBe('68 c3 [a9] 6c 6c 6f 20 f0 9f …');
    expect(diff.receivedHex.startsWith('68 c3 [83] c2 a9')).toBe(true);
    expect(diff.receivedColumn).toBe(1); // under the "Ã"
    expect(diff.received).toBe('hÃ©llo ð<U+009F><U+0091><U+008B>');
  });

  test('marks the end when one value is a prefix of the other', () => {
    const diff = byteDiff('id', 'chatlab/1', 'chatlab/1.0')!;
    expect(diff.firstDifferentByte).toBe(9);
    expect(diff.expectedHex).toBe('… 74 6c 61 62 2f 31 [end]');
    expect(diff.receivedColumn).toBe(9);
    expect(byteDiff('same', 'abc', 'abc')).toBeNull();
  });

  test('counts display columns, so the marker sits under wide characters correctly', () => {
    const diff = byteDiff('t', '世界a', '世界b')!;
    expect(diff.firstDifferentByte).toBe(6);
    expect(diff.receivedColumn).toBe(4);
    expect(firstDifference(Buffer.from('ab'), Buffer.from('ab'))).toBe(-1);
  });
});
