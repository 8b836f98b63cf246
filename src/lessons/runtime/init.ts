import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { accountsFile, type Lesson } from './catalogue.ts';
import { previousTrackLesson } from './tracks.ts';

/** What `chatlab lesson init` laid out. */
export interface InitResult {
  /** The folder to work in: `<dir>/<slug>`, laid out like `lessons/` so `../accounts.json` is found. */
  folder: string;
  /** The lesson the code comes from (`undefined` for lesson 1: it starts from nothing). */
  from?: Lesson;
  /** The program files copied into `folder`, by name. */
  copied: string[];
}

/** `init` would overwrite a learner's work: it never does. */
export class InitTargetExistsError extends Error {
  constructor(readonly folder: string) {
    super(`${folder} already exists and is not empty`);
    this.name = 'InitTargetExistsError';
  }
}

/**
 * `chatlab lesson init N DIR`: a starting point for doing lesson N yourself. DIR gets the layout of
 * `lessons/` — the demo accounts in `DIR/accounts.json`, and `DIR/<slug>/` holding the previous
 * lesson's server and client of the lesson's track — so the code runs unchanged (servers read
 * `../accounts.json`) and the lesson's step is what is left to write. An existing, non-empty
 * `DIR/<slug>` is refused: never overwrite someone's work.
 */
export function initLesson(lesson: Lesson, dir: string): InitResult {
  const folder = join(dir, lesson.slug);
  if (existsSync(folder) && readdirSync(folder).length > 0) throw new InitTargetExistsError(folder);
  mkdirSync(folder, { recursive: true });
  const accounts = join(dir, basename(accountsFile()));
  if (!existsSync(accounts)) copyFileSync(accountsFile(), accounts);
  const from = previousTrackLesson(lesson);
  if (!from) return { folder, copied: [] };
  const copied = [from.server, from.client].filter((file): file is string => file !== undefined && existsSync(join(from.dir, file)));
  for (const file of copied) copyFileSync(join(from.dir, file), join(folder, file));
  return { folder, from, copied };
}
