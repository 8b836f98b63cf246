/**
 * The order of names in `welcome`, `users` and `room_list`: by Unicode code point, what Python's
 * `sorted()` does. JavaScript's `<` and default `sort()` compare UTF-16 code units instead, which
 * differs only where a character above U+FFFF (stored as a surrogate pair, units D800–DFFF) meets
 * one in E000–FFFF; this comparison fixes that case up without allocating.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x >= 0xd800 && y >= 0xd800 ? codePointRank(x) - codePointRank(y) : x - y;
  }
  return a.length - b.length;
}

/** Code units from D800 up ranked in code point order: E000–FFFF below the surrogates. */
function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
