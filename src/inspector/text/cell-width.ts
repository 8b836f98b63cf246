import stringWidth from 'string-width';

// 0 = not measured yet; otherwise width + 1. One byte per code point keeps the cache small.
const cache = new Uint8Array(0x110000);

/**
 * Terminal cells one code point takes on its own (0, 1 or 2), as string-width measures it:
 * 0 for controls, combining marks and format characters, 2 for East Asian wide and emoji
 * presentation characters. Layout, the TUI and the TUI test's terminal all use this one function,
 * so they cannot disagree about where a column ends.
 */
export function codePointWidth(codePoint: number): 0 | 1 | 2 {
  const cached = cache[codePoint];
  if (cached) return (cached - 1) as 0 | 1 | 2;
  const width = codePoint >= 0xd800 && codePoint <= 0xdfff ? 1 : Math.min(2, stringWidth(String.fromCodePoint(codePoint)));
  cache[codePoint] = width + 1;
  return width as 0 | 1 | 2;
}

/**
 * Cells a string takes when every code point is drawn on its own (how most terminals draw:
 * per code point, wcwidth-style). Equals string-width's answer for text passed through
 * `displayText` (./display.ts), whose graphemes are all simple.
 */
export function cellWidth(text: string): number {
  let width = 0;
  for (const char of text) width += codePointWidth(char.codePointAt(0) as number);
  return width;
}
