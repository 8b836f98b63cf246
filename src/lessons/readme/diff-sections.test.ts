import { describe, expect, it } from 'vitest';
import { findLesson, type Lesson } from '../runtime/index.ts';
import { renderDiffSection, renderFixSection } from './diff-sections.ts';

function lesson(n: number): Lesson {
  const found = findLesson(n);
  if (!found) throw new Error(`no lesson ${n}`);
  return found;
}

describe("the README's diff sections", () => {
  it('shows the first lesson whole', () => {
    expect(renderDiffSection(lesson(1))).toContain('Everything is new');
  });

  it('links an unchanged file to the lesson it comes from', () => {
    expect(renderDiffSection(lesson(9))).toContain('`client.mjs` is the same as in [lesson 08](../08-quit/client.mjs)');
  });

  it('has a fix section only for a lesson with a broken version', () => {
    expect(renderFixSection(lesson(4))).toMatch(/^```diff\n/);
    expect(renderFixSection(lesson(3))).toBeNull();
  });
});
