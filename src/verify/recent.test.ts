import { describe, expect, test } from 'vitest';
import { Recent } from './recent.ts';

describe('Recent', () => {
  test('keeps the newest entries within the count, and counts the dropped ones', () => {
    const recent = new Recent<number>({ items: 3, bytes: 1_000 });
    for (let i = 1; i <= 1_000; i++) recent.push(i, 1);
    expect(recent.toArray()).toEqual([998, 999, 1_000]);
    expect(recent.length).toBe(3);
    expect(recent.dropped).toEqual({ items: 997, bytes: 997 });
    expect(recent.at(0)).toBe(998);
    expect(recent.at(-1)).toBe(1_000);
    expect(recent.at(3)).toBeUndefined();
    expect(recent.find((n) => n % 2 === 1)).toBe(999);
  });

  test('drops the oldest entries to stay within the byte budget, but always keeps the newest', () => {
    const dropped: string[] = [];
    const recent = new Recent<string>({ items: 100, bytes: 10 }, (entry) => dropped.push(entry));
    recent.push('a', 4);
    recent.push('b', 4);
    recent.push('c', 4);
    expect(recent.toArray()).toEqual(['b', 'c']);
    expect(recent.bytes).toBe(8);
    recent.push('huge', 50);
    expect(recent.toArray()).toEqual(['huge']);
    expect(dropped).toEqual(['a', 'b', 'c']);
    expect(recent.dropped).toEqual({ items: 3, bytes: 12 });
  });
});
