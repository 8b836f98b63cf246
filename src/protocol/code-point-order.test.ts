import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCodePoints } from './code-point-order.ts';

/** The reference: compare arrays of code points. */
function byArrays(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) as number);
  const y = [...b].map((c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

describe('compareCodePoints', () => {
  it('orders a character above U+FFFF after one in E000–FFFF (where UTF-16 order differs)', () => {
    expect(compareCodePoints('😀', '\uffe0')).toBeGreaterThan(0);
    expect('😀' < '\uffe0').toBe(true); // what plain < would say
    expect(['b', 'a', 'ab', '😀', '\uffe0', 'A'].sort(compareCodePoints)).toEqual(['A', 'a', 'ab', 'b', '\uffe0', '😀']);
  });

  it('agrees in sign with a comparison of code point arrays, for any two strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(byArrays(a, b)));
      }),
      { numRuns: 500 },
    );
  });
});
