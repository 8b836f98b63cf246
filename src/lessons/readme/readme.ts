import { join } from 'node:path';
import { hasSection, type Lesson, lessonNumberLabel, LESSONS_DIR, listLessons, writeSection } from '../runtime/index.ts';
import { renderDiffSection, renderFixSection } from './diff-sections.ts';

/** Absolute path of lessons/README.md, the list of lessons. */
export const INDEX_README = join(LESSONS_DIR, 'README.md');

/**
 * Rewrites the sections that come from the files alone (no run needed): what changed since the
 * previous lesson, and the fix of a broken version. Both are pure, so a test can regenerate them
 * in memory and compare with the committed README.
 */
export function withFileSections(markdown: string, lesson: Lesson): string {
  let out = writeSection(markdown, 'diff', renderDiffSection(lesson));
  const fix = renderFixSection(lesson);
  if (fix !== null && hasSection(out, 'fix')) out = writeSection(out, 'fix', fix);
  return out;
}

/** A diagram section: a Mermaid sequence diagram, with the trace it came from. */
export function renderDiagramSection(mermaid: string, trace = 'trace.jsonl'): string {
  return [
    '```mermaid',
    mermaid.trim(),
    '```',
    '',
    `<sub>Recorded by the inspector from a real run of this lesson ([${trace}](${trace})); regenerate with \`npm run lessons:diagrams\`. Replay it in this folder: \`npx chatlab inspect replay ${trace}\`.</sub>`,
  ].join('\n');
}

/** The table of lessons in lessons/README.md. */
export function renderIndex(lessons: Lesson[] = listLessons()): string {
  const rows = lessons.map((lesson) => `| ${lessonNumberLabel(lesson)} | [${lesson.title}](${lesson.slug}/README.md) | ${lesson.idea} |`);
  return ['| # | Lesson | The one new idea |', '|---|---|---|', ...rows].join('\n');
}
