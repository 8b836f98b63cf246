import { describe, expect, it } from 'vitest';
import { cellWidth, codePointWidth, graphemes, graphemeWidth } from './cell-width.ts';
import { padCells, toCells, truncateCells } from './text-cells.ts';

const FAMILY = '👨\u200d👩\u200d👧';
const RAINBOW_FLAG = '🏳\ufe0f\u200d🌈';
const TECHNOLOGIST = '👩\u200d💻';
const FRANCE = '🇫🇷';
const E_ACUTE = 'e\u0301';

describe('cell width of a grapheme', () => {
  it('CJK and emoji take two cells, ASCII one, combining marks none', () => {
    expect(cellWidth('你好')).toBe(4);
    expect(cellWidth('😄')).toBe(2);
    expect(cellWidth('abc')).toBe(3);
    expect(codePointWidth(0x301)).toBe(0);
    expect(cellWidth(E_ACUTE)).toBe(1);
    expect(cellWidth(`caf${E_ACUTE}`)).toBe(4);
  });

  it('a ZWJ sequence is one glyph as wide as its first emoji, as tmux draws it', () => {
    expect(graphemeWidth(FAMILY)).toBe(2);
    expect(graphemeWidth(TECHNOLOGIST)).toBe(2);
    expect(graphemeWidth(RAINBOW_FLAG)).toBe(1);
    expect(cellWidth(`a${FAMILY}b`)).toBe(4);
  });

  it('a flag is its two regional indicators, each drawn on its own', () => {
    expect([...graphemes(`x${FRANCE}y`)]).toEqual(['x', FRANCE, 'y']);
    expect(graphemeWidth(FRANCE)).toBe(codePointWidth(0x1f1eb) + codePointWidth(0x1f1f7));
  });
});

describe('clipping by cells never splits a grapheme', () => {
  it('keeps a ZWJ sequence whole, or leaves it out whole', () => {
    expect(truncateCells(`${FAMILY}x`, 3)).toBe(`${FAMILY}x`);
    expect(truncateCells(`ab${FAMILY}cd`, 5)).toBe(`ab${FAMILY}…`);
    expect(truncateCells(`ab${FAMILY}cd`, 4)).toBe('ab…');
  });

  it('keeps a letter with its combining mark, and a flag with both its letters', () => {
    expect(truncateCells(`${E_ACUTE}${E_ACUTE}${E_ACUTE}`, 2)).toBe(`${E_ACUTE}…`);
    expect(truncateCells(`a${FRANCE}${FRANCE}`, 4)).toBe(`a${FRANCE}…`);
    expect(truncateCells(`a${FRANCE}${FRANCE}`, 3)).toBe('a…');
  });

  it('does not cut a wide character in half, and pads by cells', () => {
    expect(truncateCells('ab你好cd', 5)).toBe('ab你…');
    expect(truncateCells('你好', 2)).toBe('…');
    expect(cellWidth(padCells(`${FAMILY}你`, 7))).toBe(7);
    expect(padCells(E_ACUTE, 3, 'right')).toBe(`  ${E_ACUTE}`);
  });

  it('splits into cells one grapheme each', () => {
    expect(toCells(`${FAMILY}${E_ACUTE}${FRANCE}`)).toEqual([
      { char: FAMILY, width: 2 },
      { char: E_ACUTE, width: 1 },
      { char: FRANCE, width: 2 },
    ]);
  });
});
