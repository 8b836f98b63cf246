/**
 * The lessons as the site shows them, for the sidebar (docs/.vitepress/config.ts) and the page
 * generator (scripts/docs-prepare.ts): the catalogue (lessons/lessons.json, read by
 * src/lessons/runtime/catalogue.ts, the same one `chatlab lesson` reads), with each lesson's page link.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// The catalogue file itself, not the runtime's face: the site's config loads this, and the
// catalogue needs nothing but node:fs, where the face brings the verifier and the inspector.
import { type Lesson as CatalogueLesson, lessonNumberLabel, listLessons as catalogueLessons } from '../../src/lessons/runtime/catalogue.ts';

/** The repository root (docs/.vitepress/ is two levels down). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** The folder holding the lessons. */
export const LESSONS_DIR = join(REPO_ROOT, 'lessons');

/** One lesson, as the site shows it. */
export interface Lesson extends Omit<CatalogueLesson, 'number' | 'bonus'> {
  /** The two-digit number, e.g. `03`. */
  number: string;
  /** Whether it is a bonus lesson (after the ten core steps). */
  bonus: boolean;
  /** Site link of the lesson's page, e.g. `/lessons/03-accept`. */
  link: string;
}

/** The first level-1 heading of a markdown text. */
export function firstHeading(markdown: string): string | undefined {
  const match = /^#\s+(.+?)\s*#*\s*$/m.exec(markdown);
  return match?.[1]?.trim();
}

/** Every lesson of the catalogue, in order. */
export function listLessons(): Lesson[] {
  return catalogueLessons().map((lesson) => ({
    ...lesson,
    number: lessonNumberLabel(lesson),
    bonus: lesson.bonus ?? false,
    link: `/lessons/${lesson.slug}`,
  }));
}
