import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
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
  /** The data files the programs read, copied beside them (`postcard.txt`, `demo-key.pem`), by name. */
  data: string[];
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
 * lesson's server and client of the lesson's track, with the data files of both lessons (see
 * {@link lessonDataFiles}) — so the code runs unchanged (servers read `../accounts.json`, the TLS
 * server its key beside it) and the lesson's step is what is left to write. An existing, non-empty
 * `DIR/<slug>` is refused: never overwrite someone's work.
 */
export function initLesson(lesson: Lesson, dir: string): InitResult {
  const folder = join(dir, lesson.slug);
  if (existsSync(folder) && readdirSync(folder).length > 0) throw new InitTargetExistsError(folder);
  mkdirSync(folder, { recursive: true });
  const accounts = join(dir, basename(accountsFile()));
  if (!existsSync(accounts)) copyFileSync(accountsFile(), accounts);
  const from = previousTrackLesson(lesson);
  // The copied code's own data (lesson 12's postcard.txt, under lesson 13), then the step's
  // (lesson 13's demo key and certificate): the step's version wins a name both lessons have.
  const sources = new Map<string, string>();
  for (const source of from ? [from, lesson] : [lesson]) for (const file of lessonDataFiles(source)) sources.set(file, join(source.dir, file));
  const data = [...sources.keys()].sort();
  for (const file of data) copyFileSync(sources.get(file)!, join(folder, file));
  if (!from) return { folder, copied: [], data };
  const copied = [from.server, from.client].filter((file): file is string => file !== undefined && existsSync(join(from.dir, file)));
  for (const file of copied) copyFileSync(join(from.dir, file), join(folder, file));
  return { folder, from, copied, data };
}

/** A folder given to `chatlab lesson check --dir` does not hold the lesson's server. */
export class NotALessonFolderError extends Error {
  constructor(
    readonly folder: string,
    readonly server: string,
  ) {
    super(`${folder} has no ${server}`);
    this.name = 'NotALessonFolderError';
  }
}

/**
 * A lesson with its programs taken from a learner's folder (as {@link initLesson} lays it out):
 * the same step, scenario and checks (TLS through the folder's own demo key, UDP with --udp), so
 * `chatlab lesson check N --dir FOLDER` checks the learner's work exactly as the lesson's own
 * code is checked. The broken copy stays the lesson's business: it is left out.
 */
export function lessonInFolder(lesson: Lesson, folder: string): Lesson {
  const dir = resolve(folder);
  if (!existsSync(join(dir, lesson.server))) throw new NotALessonFolderError(folder, lesson.server);
  const { broken: _broken, ...rest } = lesson;
  return { ...rest, dir };
}

/** What in a lesson folder is the lesson's own material, not data its programs read. */
const NOT_DATA = [/^README\.md$/, /^scenario\.json$/, /\.test\.ts$/, /\.jsonl$/, /\.(mjs|py)$/, /^\./];

/**
 * The data files beside a lesson's programs, which they read at run time: every file of the
 * lesson folder except its programs (of any track), tests, traces, scenario and README
 * (`postcard.txt` in lesson 12, `demo-key.pem` and `demo-cert.pem` in lesson 13). Read from the
 * folder, so a data file added to a lesson is laid out by `init` with no list to keep.
 */
export function lessonDataFiles(lesson: Lesson): string[] {
  return readdirSync(lesson.dir)
    .filter((file) => !NOT_DATA.some((pattern) => pattern.test(file)) && statSync(join(lesson.dir, file)).isFile())
    .sort();
}
