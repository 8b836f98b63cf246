import stringWidth from 'string-width';

// 0 = not measured yet; otherwise width + 1. One byte per code point keeps the cache small.
const cache = new Uint8Array(0x110000);
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const ZWJ = '\u200d';

/**
 * Terminal cells one code point takes on its own (0, 1 or 2), as string-width measures it:
 * 0 for controls, combining marks and format characters, 2 for East Asian wide and emoji
 * presentation characters. Layout, the patched blessed (./blessed-widths.ts) and the TUI tests'
 * terminal all use this one function, so they cannot disagree about where a column ends.
 */
export function codePointWidth(codePoint: number): 0 | 1 | 2 {
  const cached = cache[codePoint];
  if (cached) return (cached - 1) as 0 | 1 | 2;
  const width = codePoint >= 0xd800 && codePoint <= 0xdfff ? 1 : Math.min(2, stringWidth(String.fromCodePoint(codePoint)));
  cache[codePoint] = width + 1;
  return width as 0 | 1 | 2;
}

/** Whether a grapheme cluster is an emoji ZWJ sequence (emoji joined by U+200D: 👨‍👩‍👧, 👩‍💻, 🏳️‍🌈). */
export function isJoinedSequence(grapheme: string): boolean {
  return grapheme.includes(ZWJ);
}

/**
 * Cells one grapheme cluster takes, the way terminals draw and the patched blessed lays out: each
 * code point at its own width (a combining mark adds nothing, 🇫🇷 is its two letters, 👍🏽 an emoji
 * and a swatch), except a ZWJ sequence, which terminals that join it draw as one glyph as wide as
 * its first emoji (measured in tmux 3.3a: 👨‍👩‍👧 is 2, 🏳️‍🌈 is 1).
 */
export function graphemeWidth(grapheme: string): number {
  if (isJoinedSequence(grapheme)) return codePointWidth(grapheme.codePointAt(0) as number);
  let width = 0;
  for (const char of grapheme) width += codePointWidth(char.codePointAt(0) as number);
  return width;
}

/** The grapheme clusters of `text` (what a user sees as one character), in order. */
export function graphemes(text: string): Iterable<string> {
  return mapSegments(segmenter.segment(text));
}

function* mapSegments(segments: Intl.Segments): Iterable<string> {
  for (const { segment } of segments) yield segment;
}

/**
 * Cells a string takes on a terminal: the sum of its graphemes' widths (see {@link graphemeWidth}).
 * Text with no ZWJ sequence is measured per code point, the classic wcwidth way.
 */
export function cellWidth(text: string): number {
  let width = 0;
  // Fast path: most text has no joiner, and per code point is then the same answer.
  if (!text.includes(ZWJ)) {
    for (const char of text) width += codePointWidth(char.codePointAt(0) as number);
    return width;
  }
  for (const grapheme of graphemes(text)) width += graphemeWidth(grapheme);
  return width;
}
