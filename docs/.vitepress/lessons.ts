/**
 * Finds the lessons in the repository's `lessons/` folder, for the site's sidebar
 * (docs/.vitepress/config.ts) and for the page generator (scripts/docs-prepare.ts).
 * A lesson is a folder named `NN-slug` listed in the lessons index (lessons/lessons.json), or
 * any such folder when there is no index; its title comes from the index, else from the first
 * `# ` heading of its README.md.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (docs/.vitepress/ is two levels down). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** The folder holding the lessons. */
export const LESSONS_DIR = join(REPO_ROOT, 'lessons');

/** One lesson folder, as the site shows it. */
export interface Lesson {
  /** Folder name, e.g. `03-accept`; also the page's file name under docs/lessons/. */
  slug: string;
  /** The two-digit number, e.g. `03`. */
  number: string;
  /** Short title, e.g. `Accept and say hello`. */
  title: string;
  /** Absolute path of the folder. */
  dir: string;
  /** Whether it is a bonus lesson (after the ten core steps). */
  bonus: boolean;
  /** Site link of the lesson's page, e.g. `/lessons/03-accept`. */
  link: string;
  /** The lesson's idea in one sentence, from the index. */
  idea?: string;
  /** Which of the ten steps it adds, from the index. */
  step?: number;
  /** A deliberately broken variant kept for comparison, from the index. */
  broken?: BrokenVariant;
}

/** A deliberately broken file of a lesson: what is wrong with it, and where the verifier stops it. */
export interface BrokenVariant {
  file: string;
  bug: string;
  failsAt?: number;
}

const LESSON_FOLDER = /^(\d{2})-([a-z0-9][a-z0-9-]*)$/;

/** Everything an index entry may say about a lesson (the lessons helper owns the format). */
interface IndexEntry {
  slug?: string;
  dir?: string;
  folder?: string;
  id?: string;
  title?: string;
  name?: string;
  bonus?: boolean;
  idea?: string;
  step?: number;
  broken?: BrokenVariant;
}

/** Reads the lessons index (JSON) if one exists, keyed by folder name. */
function readIndex(lessonsDir: string): Map<string, IndexEntry> {
  const byFolder = new Map<string, IndexEntry>();
  for (const file of ['lessons.json', 'index.json']) {
    const path = join(lessonsDir, file);
    if (!existsSync(path)) continue;
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    const entries = Array.isArray(parsed)
      ? parsed
      : parsed && typeof parsed === 'object' && Array.isArray((parsed as { lessons?: unknown }).lessons)
        ? (parsed as { lessons: unknown[] }).lessons
        : [];
    for (const entry of entries as IndexEntry[]) {
      const folder = entry.slug ?? entry.dir ?? entry.folder ?? entry.id;
      if (typeof folder === 'string') byFolder.set(folder.replace(/\/+$/, '').split('/').pop() as string, entry);
    }
    break;
  }
  return byFolder;
}

/** The first level-1 heading of a markdown text, without a leading "Lesson NN" label. */
export function firstHeading(markdown: string): string | undefined {
  const match = /^#\s+(.+?)\s*#*\s*$/m.exec(markdown);
  return match?.[1]?.trim();
}

/** Removes a "Lesson 03 —", "03 ·" or "Step 3:" prefix from a heading. */
export function stripLessonLabel(title: string): string {
  return title.replace(/^(?:(?:lesson|step|bonus)\s*)?\d{1,2}\s*[-–—·:.)]\s*/i, '').trim() || title;
}

/** Lists every lesson folder, in number order. Returns [] when there are none yet. */
export function listLessons(lessonsDir: string = LESSONS_DIR): Lesson[] {
  if (!existsSync(lessonsDir)) return [];
  const index = readIndex(lessonsDir);
  // With an index, it is the catalogue (a folder still being written stays off the site until it
  // is listed); without one, every NN-slug folder is a lesson.
  return readdirSync(lessonsDir)
    .filter((name) => LESSON_FOLDER.test(name) && statSync(join(lessonsDir, name)).isDirectory())
    .filter((name) => index.size === 0 || index.has(name))
    .sort()
    .map((slug) => {
      const [, number, rest] = LESSON_FOLDER.exec(slug) as RegExpExecArray;
      const dir = join(lessonsDir, slug);
      const readme = join(dir, 'README.md');
      const entry = index.get(slug);
      const heading = existsSync(readme) ? firstHeading(readFileSync(readme, 'utf8')) : undefined;
      const title = entry?.title ?? entry?.name ?? (heading ? stripLessonLabel(heading) : (rest as string).replace(/-/g, ' '));
      const bonus = entry?.bonus ?? Number(number) > 10;
      const lesson: Lesson = { slug, number: number as string, title, dir, bonus, link: `/lessons/${slug}` };
      if (typeof entry?.idea === 'string') lesson.idea = entry.idea;
      if (typeof entry?.step === 'number') lesson.step = entry.step;
      if (entry?.broken && typeof entry.broken.file === 'string') lesson.broken = entry.broken;
      return lesson;
    });
}
