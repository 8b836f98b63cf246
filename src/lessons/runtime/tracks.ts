import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findLesson, listLessons, type Lesson } from './catalogue.ts';

/**
 * The lessons come in two tracks, in the same folders: the Node.js snapshots (`server.mjs`,
 * `client.mjs`) and the Python ones beside them (`server.py`, `client.py`). One folder and one
 * README per lesson: the goal, the concept and the diagram are the same whatever the language,
 * and the scenario and the verifier steps are shared, so the two tracks cannot drift apart.
 */
export type Track = 'node' | 'python';

/** Every track, the default first. */
export const TRACKS: readonly Track[] = ['node', 'python'];

/** What differs from one track to the other. */
export interface TrackInfo {
  track: Track;
  /** Its name for people: `Node.js`, `Python`. */
  label: string;
  /** The extension of its program files. */
  extension: string;
  /** The language of its fenced code blocks in the READMEs. */
  fence: string;
  /** How a learner starts one of its programs: `node`, `python3`. */
  interpreter: string;
}

const INFO: Record<Track, TrackInfo> = {
  node: { track: 'node', label: 'Node.js', extension: '.mjs', fence: 'js', interpreter: 'node' },
  python: { track: 'python', label: 'Python', extension: '.py', fence: 'python', interpreter: 'python3' },
};

/** The details of a track. */
export function trackInfo(track: Track): TrackInfo {
  return INFO[track];
}

/** Whether a string names a track (`node`, `python`). */
export function isTrack(value: string): value is Track {
  return (TRACKS as readonly string[]).includes(value);
}

/** The track a program file belongs to, from its extension. */
export function trackOfFile(file: string): Track {
  return file.endsWith(INFO.python.extension) ? 'python' : 'node';
}

/** The track a lesson (as returned by {@link inTrack}) belongs to. */
export function trackOf(lesson: Lesson): Track {
  return trackOfFile(lesson.server);
}

/** `server.mjs` → `server.py`: the same program in another track. */
function renamed(file: string, track: Track): string {
  return file.replace(/\.(mjs|py)$/, INFO[track].extension);
}

/**
 * A lesson as seen from a track: the same folder, scenario, step and README, with the program
 * files of that track (`server.py`, `client.py`, `server-naive.py`). A bonus lesson whose program
 * is missing in that track is `undefined`.
 */
export function inTrack(lesson: Lesson, track: Track): Lesson | undefined {
  if (track === trackOf(lesson)) return lesson;
  const server = renamed(lesson.server, track);
  if (!existsSync(join(lesson.dir, server))) return undefined;
  const view: Lesson = { ...lesson, server };
  if (lesson.client) view.client = renamed(lesson.client, track);
  if (lesson.broken) view.broken = { ...lesson.broken, file: renamed(lesson.broken.file, track) };
  return view;
}

/** Every lesson that exists in a track, in order. */
export function listTrackLessons(track: Track): Lesson[] {
  return listLessons().flatMap((lesson) => inTrack(lesson, track) ?? []);
}

/** The lesson with this number in a track, or `undefined` (no such lesson, or not in that track). */
export function findTrackLesson(number: number, track: Track): Lesson | undefined {
  const lesson = findLesson(number);
  return lesson && inTrack(lesson, track);
}

/** The lesson before this one in its track (or the one its `diffFrom` names), or `undefined` for the first. */
export function previousTrackLesson(lesson: Lesson): Lesson | undefined {
  // A lesson may build on an earlier one than the one before it (lesson 15, UDP, on lesson 10).
  if (lesson.diffFrom !== undefined) {
    const base = findLesson(lesson.diffFrom);
    return base && inTrack(base, trackOf(lesson));
  }
  const lessons = listTrackLessons(trackOf(lesson));
  const index = lessons.findIndex((l) => l.slug === lesson.slug);
  return index > 0 ? lessons[index - 1] : undefined;
}

/**
 * The command that runs a lesson program: this very Node for `.mjs` files (so a test runs the
 * Node it runs under), `python3` (or $CHATLAB_PYTHON) for `.py` files. `-u` is not needed: every
 * Python lesson program asks for line-buffered output itself, as a learner's run needs it too.
 */
export function programCommand(file: string): string[] {
  return trackOfFile(file) === 'python' ? [process.env.CHATLAB_PYTHON ?? 'python3', file] : [process.execPath, file];
}

/** The command line a learner types to run a lesson program: `node server.mjs`, `python3 server.py`. */
export function commandLine(file: string): string {
  return `${INFO[trackOfFile(file)].interpreter} ${file}`;
}

/**
 * The key of a lesson's results in the `lesson list` cache: its folder for the Node track (as
 * before tracks existed), the folder with `#python` for the Python one, so both are remembered.
 */
export function checkCacheKey(dir: string, track: Track = 'node'): string {
  return track === 'node' ? dir : `${dir}#${track}`;
}

/** The file, beside the check cache, where `chatlab lesson --lang` remembers the chosen track. */
export function trackSettingFile(cacheFile: string): string {
  return join(cacheFile, '..', 'lesson-track.json');
}

/** The track chosen last with `--lang` (default `node`); an unreadable file counts as none. */
export function readRememberedTrack(file: string): Track {
  try {
    const saved = (JSON.parse(readFileSync(file, 'utf8')) as { lang?: unknown }).lang;
    return typeof saved === 'string' && isTrack(saved) ? saved : 'node';
  } catch {
    return 'node';
  }
}

/** Remembers the track for the next `chatlab lesson` commands (temporary file first, then renamed). */
export function rememberTrack(file: string, track: Track): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ lang: track }, null, 2) + '\n');
  renameSync(temporary, file);
}
