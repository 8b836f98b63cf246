/** The diffs the docs site shows between lesson files: shared by the lesson pages and their per-language tabs. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, type Lesson } from '../docs/.vitepress/lessons.ts';
import { unifiedDiff } from '../src/lessons/runtime/index.ts';

/**
 * The unified diff between two files (paths relative to the repository root), or null when
 * they are identical. A missing old file diffs from /dev/null.
 */
export function fileDiff(oldFile: string, newFile: string): string | null {
  const oldPath = join(REPO_ROOT, oldFile);
  const oldText = existsSync(oldPath) ? readFileSync(oldPath, 'utf8') : '';
  const newText = readFileSync(join(REPO_ROOT, newFile), 'utf8');
  if (oldText === newText) return null;
  return unifiedDiff(existsSync(oldPath) ? oldFile : '/dev/null', newFile, oldText, newText);
}

/** The unified diff of one file between two lessons, or null when it did not change. */
export function lessonFileDiff(previous: Lesson, lesson: Lesson, file: string): string | null {
  return fileDiff(`lessons/${previous.slug}/${file}`, `lessons/${lesson.slug}/${file}`);
}
