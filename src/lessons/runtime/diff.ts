import { createTwoFilesPatch } from 'diff';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lesson } from './catalogue.ts';
import { paint } from '../../terminal/index.ts';
import { previousTrackLesson } from './tracks.ts';

/** How one file of a lesson differs from the lesson before. */
export interface FileChange {
  file: string;
  status: 'new' | 'changed' | 'unchanged';
  /** Unified diff (`changed`), or the whole file (`new`); empty when unchanged. */
  text: string;
}

function read(dir: string, file: string): string | null {
  const path = join(dir, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/**
 * A unified diff of two versions of a file with 3 lines of context, without the `===` banner
 * the `diff` package puts first: the same shape `git diff` prints.
 */
export function unifiedDiff(oldName: string, newName: string, oldText: string, newText: string): string {
  const patch = createTwoFilesPatch(oldName, newName, oldText, newText, undefined, undefined, { context: 3 });
  return patch
    .split('\n')
    .filter((line) => !/^=+$/.test(line))
    .join('\n')
    .trimEnd();
}

/** What changed in a lesson's server and client since the lesson it builds on (the previous one, unless it says). */
export function lessonChanges(lesson: Lesson): FileChange[] {
  const before = previousTrackLesson(lesson);
  const files = [lesson.server, lesson.client].filter((file): file is string => file !== undefined);
  return files.map((file): FileChange => {
    const now = read(lesson.dir, file) ?? '';
    const then = before ? read(before.dir, file) : null;
    if (then === null || !before) return { file, status: 'new', text: now.trimEnd() };
    // The first line is each file's title ("// Lesson 09 — …"): a new title alone is no change.
    if (then.slice(then.indexOf('\n')) === now.slice(now.indexOf('\n'))) return { file, status: 'unchanged', text: '' };
    return { file, status: 'changed', text: unifiedDiff(`${before.slug}/${file}`, `${lesson.slug}/${file}`, then, now) };
  });
}

/** The diff from a lesson's broken server to its fixed one (lessons with a `broken` copy). */
export function fixDiff(lesson: Lesson): string | null {
  if (!lesson.broken) return null;
  const broken = read(lesson.dir, lesson.broken.file);
  const fixed = read(lesson.dir, lesson.server);
  if (broken === null || fixed === null) return null;
  return unifiedDiff(`${lesson.slug}/${lesson.broken.file}`, `${lesson.slug}/${lesson.server}`, broken, fixed);
}

/** Colours a unified diff for the terminal: additions green, removals red, hunks cyan. */
export function colourDiff(diff: string): string {
  return diff
    .split('\n')
    .map((line) => {
      if (line.startsWith('+++') || line.startsWith('---')) return paint('bold', line);
      if (line.startsWith('@@')) return paint('cyan', line);
      if (line.startsWith('+')) return paint('green', line);
      if (line.startsWith('-')) return paint('red', line);
      return line;
    })
    .join('\n');
}
