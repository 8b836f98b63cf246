import blessed from 'blessed';
import stringWidth from 'string-width';

/**
 * blessed's own width table predates emoji: it counts 😄 as one column where every current
 * terminal draws two, so every line holding an emoji would push the screen out of place. This
 * teaches blessed the widths string-width knows (Unicode's East Asian Width and emoji
 * presentation): its `charWidth` (used to lay out and to draw) and its "wide character" pattern
 * (used to reserve the second cell) then agree with the terminal. Applied once, before any screen.
 */

interface BlessedUnicode {
  charWidth(text: string | number, index?: number): number;
  codePointAt(text: string, index: number): number;
  chars: { all: unknown };
}

const unicode = (blessed as unknown as { unicode: BlessedUnicode }).unicode;
let patched = false;
const cache = new Map<number, boolean>();

/** Whether a code point takes two terminal columns. */
export function isWide(point: number): boolean {
  let wide = cache.get(point);
  if (wide === undefined) {
    wide = point > 0x7f && stringWidth(String.fromCodePoint(point)) === 2;
    cache.set(point, wide);
  }
  return wide;
}

/** Installs the corrected widths into blessed (idempotent). */
export function patchBlessedWidths(): void {
  if (patched) return;
  patched = true;
  const original = unicode.charWidth.bind(unicode);
  unicode.charWidth = (text, index = 0) => {
    const point = typeof text === 'number' ? text : unicode.codePointAt(text, index);
    return isWide(point) ? 2 : original(text, index);
  };
  // blessed calls `content.replace(unicode.chars.all, '$1\x03')` to put a filler after each wide
  // character (the cell the terminal covers). A replacer object keeps that call site working with
  // the same notion of "wide" as charWidth above.
  unicode.chars.all = {
    [Symbol.replace](text: string, replacement: string): string {
      let out = '';
      for (const character of text) {
        const point = character.codePointAt(0) as number;
        if (!isWide(point)) out += character;
        else out += replacement === '$1\x03' ? `${character}\x03` : replacement;
      }
      return out;
    },
  };
}
