import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { cellWidth } from './cell-width.ts';
import { displayText, padCells, toCells, truncateCells } from './text-cells.ts';

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
