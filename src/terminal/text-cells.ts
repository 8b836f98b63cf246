import { cellWidth, graphemes, graphemeWidth } from './cell-width.ts';

const COMBINING_MARK = /^[\p{Mn}\p{Me}]$/u;
const VARIATION_SELECTOR = /^[\u{fe00}-\u{fe0f}\u{e0100}-\u{e01ef}]$/u;
// Characters that must never reach a terminal raw: C0/C1 controls, DEL, format characters
// (bidi overrides, zero-width joiners on their own, BOM) and line/paragraph separators.
const UNSAFE = /^[\p{Cc}\p{Cf}\u2028\u2029]$/u;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Shows an unsafe character as a visible escape: `\n`, `\x1b`, `\u{202e}`. */
function escapeChar(char: string): string {
  const named = NAMED_ESCAPES[char];
  if (named) return named;
  const cp = char.codePointAt(0) as number;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/**
 * Makes text from the wire safe and measurable on a terminal: controls and format characters
 * become visible escapes (a learner's ANSI codes or bidi overrides cannot repaint the screen), and
 * each grapheme that terminals disagree on (ZWJ sequences, skin tones, VS16 emoji, flags) is
 * reduced to its first code point, so {@link cellWidth} is exact. Combining marks stay. The
 * detail pane and the exports still show every code point; this is only for drawing.
 */
export function displayText(text: string): string {
  let out = '';
  for (const segment of graphemes(text)) {
    const chars = [...segment];
    const first = chars[0] as string;
    if (UNSAFE.test(first)) {
      out += chars.map((c) => (UNSAFE.test(c) ? escapeChar(c) : c)).join('');
      continue;
    }
    if (chars.length === 1) {
      out += first;
      continue;
    }
    const simple = chars.slice(1).every((c) => COMBINING_MARK.test(c) && !VARIATION_SELECTOR.test(c));
    out += simple ? segment : first;
  }
  return out;
}

/**
 * Cuts text to at most `width` cells, ending with `…` when cut. Never splits a grapheme (a letter
 * and its combining marks, a flag, a ZWJ sequence) nor a double-width character.
 */
export function truncateCells(text: string, width: number, ellipsis = '…'): string {
  if (width <= 0) return '';
  if (cellWidth(text) <= width) return text;
  const room = width - cellWidth(ellipsis);
  let out = '';
  let used = 0;
  for (const segment of graphemes(text)) {
    const w = graphemeWidth(segment);
    if (used + w > room) break;
    out += segment;
    used += w;
  }
  return room >= 0 ? out + ellipsis : out;
}

/** Pads (or cuts, see {@link truncateCells}) text to exactly `width` cells. */
export function padCells(text: string, width: number, align: 'left' | 'right' | 'center' = 'left'): string {
  const fitted = truncateCells(text, width);
  const gap = width - cellWidth(fitted);
  if (gap <= 0) return fitted;
  if (align === 'right') return ' '.repeat(gap) + fitted;
  if (align === 'center') return ' '.repeat(Math.floor(gap / 2)) + fitted + ' '.repeat(gap - Math.floor(gap / 2));
  return fitted + ' '.repeat(gap);
}

/** One drawable cell: a grapheme of width 1 or 2 (a width-2 one covers the next cell too). */
export interface Cell {
  char: string;
  width: 1 | 2;
}

/** Splits text into cells, one per grapheme; zero-width ones stay with the character before. */
export function toCells(text: string): Cell[] {
  const cells: Cell[] = [];
  for (const segment of graphemes(text)) {
    const width = graphemeWidth(segment);
    if (width === 0) {
      const last = cells[cells.length - 1];
      if (last) last.char += segment;
      continue;
    }
    cells.push({ char: segment, width: width >= 2 ? 2 : 1 });
  }
  return cells;
}
