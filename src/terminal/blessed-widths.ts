import { createRequire } from 'node:module';
import { codePointWidth, isJoinedSequence } from './cell-width.ts';

/**
 * The one correction of blessed's character widths, for every full-screen view (the client's
 * TUI, the inspector's). blessed's own width table predates emoji: it counts 😄 as one column
 * where every current terminal draws two, so every line holding an emoji would push the screen
 * out of place. This teaches blessed the widths of {@link codePointWidth} (string-width: Unicode's
 * East Asian Width and emoji presentation), the same function our own layout measures with: its
 * `charWidth` (used to lay out and to draw) and its "wide character" pattern (used to reserve the
 * second cell) then agree with the terminal and with the layout about which characters are wide.
 * What is zero-width stays blessed's call (its combining table is also what makes it draw a mark
 * in the cell before, so the two cannot disagree); tabs and controls keep blessed's rules (a tab
 * is the screen's tab width). Applied once, before any screen; applying it again
 * does nothing, so two views in one process cannot undo each other.
 *
 * It also keeps each ZWJ sequence (emoji joined by U+200D: 👨‍👩‍👧, 👩‍💻, 🏳️‍🌈) in one cell, as
 * terminals that join them draw it: one glyph, as wide as its first emoji (measured: tmux 3.3a
 * moves the cursor 2 columns for 👨‍👩‍👧 and 1 for 🏳️‍🌈; see graphemeWidth in ./cell-width.ts).
 * blessed knows one code point per cell plus "combining" marks that it appends to the cell
 * before, and finds them through `unicode.codePointAt(text, index)`: that is where every code
 * point after the first of a ZWJ sequence is reported as a combining mark. Without it blessed
 * gave each member a cell of its own (👨 👩 👧) and the characters after it landed where the
 * terminal had not drawn them.
 */

interface BlessedUnicode {
  charWidth(text: string | number, index?: number): number;
  codePointAt(text: string, index: number): number;
  chars: { all: unknown };
}

// Loaded when patching, not on import: the face of this module must not pull blessed into the
// commands that never draw a full screen (`chatlab server`, `chatlab verify`).
const require = createRequire(import.meta.url);
let patched = false;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** A combining mark (U+0300) in blessed's table: what a cluster's later code points pass for. */
const JOINED = 0x0300;
/** How far back (UTF-16 units) a cluster's start is looked for: longer than any emoji sequence in use. */
const CLUSTER_WINDOW = 48;

/**
 * Whether the code point at UTF-16 `index` of `text` continues a ZWJ sequence that began before
 * it (a joiner, or a later emoji, skin tone or variation selector of 👨‍👩‍👧, 🏳️‍🌈, 👩🏽‍💻 …).
 * Other clusters (👍🏽, ❤️, 🇫🇷) are left as blessed draws them: terminals disagree on their
 * widths (see docs/client.md). Only a window around `index` is segmented, so a draw stays linear.
 */
export function continuesCluster(text: string, index: number): boolean {
  const unit = text.charCodeAt(index);
  if (unit < 0x300 || index === 0) return false;
  // The second half of a surrogate pair belongs to the code point that starts at index - 1.
  if (unit >= 0xdc00 && unit <= 0xdfff && isHighSurrogate(text.charCodeAt(index - 1))) return continuesCluster(text, index - 1);
  let start = Math.max(0, index - CLUSTER_WINDOW);
  if (start > 0 && isHighSurrogate(text.charCodeAt(start - 1))) start--;
  const at = index - start;
  for (const { index: begins, segment } of segmenter.segment(text.slice(start, index + 2))) {
    if (begins + segment.length > at) return begins < at && startsJoinedSequence(text.slice(start + begins, start + begins + CLUSTER_WINDOW));
  }
  return false;
}

/** Whether the grapheme cluster at the start of `text` is a ZWJ sequence (emoji joined by U+200D). */
function startsJoinedSequence(text: string): boolean {
  for (const { segment } of segmenter.segment(text)) return isJoinedSequence(segment);
  return false;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** Whether a code point takes two terminal columns. */
function isWide(point: number): boolean {
  return codePointWidth(point) === 2;
}

/** Tab, controls and what is not a code point: left to blessed (a tab's width is the screen's setting). */
function blessedDecides(point: number): boolean {
  return point === 0x09 || point === undefined || Number.isNaN(point) || point < 0x20 || (point >= 0x7f && point < 0xa0);
}

/** Installs the corrected widths into blessed (idempotent; every full-screen view calls it before its screen). */
export function patchBlessedWidths(): void {
  if (patched) return;
  patched = true;
  // The very object blessed uses (`blessed.unicode`): one module instance in require's cache.
  const unicode = require('blessed/lib/unicode.js') as BlessedUnicode;
  const originalCodePointAt = unicode.codePointAt.bind(unicode);
  unicode.codePointAt = (text, index = 0) => (typeof text === 'string' && continuesCluster(text, index) ? JOINED : originalCodePointAt(text, index));
  const original = unicode.charWidth.bind(unicode);
  unicode.charWidth = (text, index = 0) => {
    const point = typeof text === 'number' ? text : unicode.codePointAt(text, index);
    if (blessedDecides(point)) return original(text, index);
    if (isWide(point)) return 2;
    // Not wide by our measure: blessed's own answer, 0 for the marks of its combining table (the
    // ones it draws in the cell before) and 1 for the rest, never the 2 of its outdated table
    // (Hangul Jamo Extended-B and a few others), which the filler pattern below would not back.
    return Math.min(1, original(text, index));
  };
  // blessed calls `content.replace(unicode.chars.all, '$1\x03')` to put a filler after each wide
  // character (the cell the terminal covers). A replacer object keeps that call site working with
  // the same notion of "wide" as charWidth above, and puts one filler after a whole ZWJ sequence.
  unicode.chars.all = {
    [Symbol.replace](text: string, replacement: string): string {
      let out = '';
      for (const { segment } of segmenter.segment(text)) {
        for (const character of isJoinedSequence(segment) ? [segment] : segment) {
          if (!isWide(character.codePointAt(0) as number)) out += character;
          else out += replacement === '$1\x03' ? `${character}\x03` : replacement;
        }
      }
      return out;
    },
  };
}
