import { describe, expect, it } from 'vitest';
import { findLesson, type Lesson } from './catalogue.ts';
import { renderMarkdown, renderReadme } from './render.ts';

describe('renderReadme', () => {
  it('renders a README for the terminal, with the recorded run drawn as text', async () => {
    const text = await renderReadme(findLesson(5) as Lesson, { color: false });
    expect(text).toContain('# Lesson 05 · Verify and announce');
    // The Mermaid block is replaced by the inspector's text export of the same trace.
    expect(text).not.toContain('sequenceDiagram');
    expect(text).toMatch(/├─+ welcome ─+▶│/);
    expect(text).toContain('chatlab session 127.0.0.1:7071 → 127.0.0.1:7070');
    // Markers and HTML mean nothing in a terminal.
    expect(text).not.toContain('<!--');
    expect(text).not.toContain('<sub>');
    expect(text).not.toMatch(/\u001b\[/);
  });

  it('colours on request: diffs, code spans, bold', () => {
    const text = renderMarkdown('a `b` **c**\n\n```diff\n-old\n+new\n```\n', { color: true });
    expect(text).toContain('\u001b[33mb\u001b[39m');
    expect(text).toContain('\u001b[1mc\u001b[22m');
    expect(text).toContain('\u001b[31m-old\u001b[39m');
    expect(text).toContain('\u001b[32m+new\u001b[39m');
  });

  it('parses inline Markdown inside list items', () => {
    expect(renderMarkdown('- a `b` **c**\n', { color: false })).toBe('  * a b c\n');
  });
});
