import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { bytesPreview, decodeUtf8Units, hexDump } from './bytes.ts';
import { cellWidth, displayText, padCells, toCells, truncateCells } from './display.ts';

describe('displayText', () => {
  it('escapes controls and bidi overrides so wire text cannot repaint the terminal', () => {
    expect(displayText('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(displayText('\x1b[2Jboom')).toBe('\\x1b[2Jboom');
    expect(displayText('abc\u202eevil')).toBe('abc\\u{202e}evil');
    expect(displayText('\x7f\x85')).toBe('\\x7f\\x85');
  });

  it('keeps simple emoji, CJK and combining marks; reduces graphemes terminals disagree on', () => {
    expect(displayText('hello 👋 你好')).toBe('hello 👋 你好');
    expect(displayText('e\u0301')).toBe('e\u0301');
    expect(displayText('👋🏽')).toBe('👋');
    expect(displayText('👨‍👩‍👧')).toBe('👨');
    expect(displayText('❤️')).toBe('❤');
  });

  it('measures display text exactly as string-width does', () => {
    for (const text of ['hello 👋 你好', 'e\u0301 café', '🙂🙂', 'ｆｕｌｌ', displayText('👨‍👩‍👧 ❤️ 👋🏽 🇫🇷')]) {
      expect(cellWidth(text)).toBe(stringWidth(text));
    }
  });
});

describe('cell fitting', () => {
  it('truncates by cells without splitting a wide character', () => {
    expect(truncateCells('ab你好cd', 5)).toBe('ab你…');
    expect(cellWidth(truncateCells('👋👋👋👋', 6))).toBeLessThanOrEqual(6);
    expect(truncateCells('short', 10)).toBe('short');
    expect(padCells('你', 4, 'right')).toBe('  你');
    expect(padCells('ab', 6, 'center')).toBe('  ab  ');
  });

  it('splits into cells, wide ones marked, marks kept on their base', () => {
    expect(toCells('a你e\u0301')).toEqual([
      { char: 'a', width: 1 },
      { char: '你', width: 2 },
      { char: 'e\u0301', width: 1 },
    ]);
  });
});

describe('bytes views', () => {
  it('decodes UTF-8 per code point with its bytes, and flags invalid bytes', () => {
    const units = decodeUtf8Units(Buffer.concat([Buffer.from('a👋'), Buffer.from([0xff, 0xc3])]));
    expect(units.map((u) => (u.ok ? `${u.codePoint.toString(16)}:${u.bytes.toString('hex')}@${u.offset}` : `bad:${u.byte.toString(16)}@${u.offset}`))).toEqual(['61:61@0', '1f44b:f09f918b@1', 'bad:ff@5', 'bad:c3@6']);
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
