import { PassThrough } from 'node:stream';
import blessed from 'blessed';
import { afterEach, describe, expect, it } from 'vitest';
import { continuesCluster, patchBlessedWidths } from './blessed-widths.ts';
import { codePointWidth } from './cell-width.ts';

// blessed itself, patched as the TUI patches it, drawing into a screen buffer (no terminal here):
// each cell of `screen.lines` is [attributes, text], and the text is what the cell sends to the terminal.

const screens: blessed.Widgets.Screen[] = [];

afterEach(() => {
  for (const screen of screens.splice(0)) screen.destroy();
});

/** Renders `content` in the top-left corner of a 20×3 screen; returns the first row's cell texts. */
function drawRow(content: string): string[] {
  patchBlessedWidths();
  const output = Object.assign(new PassThrough(), { columns: 20, rows: 3, isTTY: true });
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const screen = blessed.screen({ input, output, fullUnicode: true, forceUnicode: true, warnings: false, terminal: 'xterm-256color' });
  screens.push(screen);
  blessed.box({ parent: screen, top: 0, left: 0, width: 20, height: 1, content });
  screen.render();
  const row = (screen as unknown as { lines: [number, string][][] }).lines[0] as [number, string][];
  return row.map(([, text]) => text);
}

const FAMILY = '👨\u200d👩\u200d👧';

describe('ZWJ emoji sequences in the TUI: one cell, one glyph', () => {
  it('👨‍👩‍👧 is drawn in one cell (as one string to the terminal), two columns wide, and what follows stays in place', () => {
    expect(drawRow(`A${FAMILY}B|`).slice(0, 5)).toEqual(['A', FAMILY, expect.any(String), 'B', '|']);
  });

  it('a sequence whose first emoji is narrow takes one column (🏳️‍🌈, as tmux draws it)', () => {
    const flag = '🏳\ufe0f\u200d🌈';
    expect(drawRow(`A${flag}B|`).slice(0, 4)).toEqual(['A', flag, 'B', '|']);
  });

  it('plain emoji, CJK and a skin tone without a joiner are drawn as before: one cell per code point', () => {
    expect(drawRow('😄x世y').slice(0, 6)).toEqual(['😄', expect.any(String), 'x', '世', expect.any(String), 'y']);
    expect(drawRow('👍🏽|').slice(0, 5)).toEqual(['👍', expect.any(String), '🏽', expect.any(String), '|']);
  });

  it('continuesCluster: only the code points after the first of a ZWJ sequence', () => {
    const text = `a${FAMILY}é😄`;
    const inside = [...text.matchAll(/[\s\S]/gu)].filter((m) => continuesCluster(text, m.index)).map((m) => m[0]);
    expect(inside).toEqual(['\u200d', '👩', '\u200d', '👧']);
    // The second half of a surrogate pair goes with its first half.
    expect(continuesCluster(text, text.indexOf('👩') + 1)).toBe(true);
    expect(continuesCluster(text, text.indexOf('👨') + 1)).toBe(false);
  });
});

describe('one rule set for every full-screen view', () => {
  const unicode = (blessed as unknown as { unicode: { charWidth(text: string | number, index?: number): number } }).unicode;

  it('blessed measures wide characters as our layout does, and keeps its combining marks at zero', () => {
    patchBlessedWidths();
    expect(unicode.charWidth('😄')).toBe(2);
    expect(unicode.charWidth('你')).toBe(2);
    expect(unicode.charWidth('a')).toBe(1);
    expect(unicode.charWidth('\u0301')).toBe(0);
    // Hangul Jamo Extended-B: blessed's old table says 2, string-width (and terminals) 1.
    expect(unicode.charWidth(0xd7b0)).toBe(codePointWidth(0xd7b0));
  });

  it('patching again (the second view of a process) changes nothing', () => {
    patchBlessedWidths();
    const before = unicode.charWidth;
    patchBlessedWidths();
    expect(unicode.charWidth).toBe(before);
    expect(drawRow(`A${FAMILY}B|`).slice(0, 5)).toEqual(['A', FAMILY, expect.any(String), 'B', '|']);
  });
});
