import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding every lesson (`lessons/` at the repository root). */
export const LESSONS_DIR = fileURLToPath(new URL('../../../lessons/', import.meta.url));

/** A deliberately broken copy of a lesson's server, kept beside the fixed one to teach the bug. */
export interface BrokenVersion {
  /** File name inside the lesson folder, e.g. `server-naive.mjs`. */
  file: string;
  /** The bug, in a few words. */
  bug: string;
  /** The verifier step it must fail at. */
  failsAt: number;
}

/** One lesson, as listed in lessons/lessons.json. */
export interface Lesson {
  number: number;
  /** Folder name, e.g. `04-login`. */
  slug: string;
  title: string;
  /** The step of the 10-step flow this lesson adds (the verifier checks 1..step). */
  step: number;
  /** The one new idea, in a sentence. */
  idea: string;
  /** The server's file name inside the folder. */
  server: string;
  /** The client's file name, from the lesson where the client has something to do. */
  client?: string;
  broken?: BrokenVersion;
  /**
   * A bonus lesson (after the ten steps): it adds an extension of chatlab/1 and keeps the core
   * working, so `step` is 10 and the verifier still checks every step.
   */
  bonus?: boolean;
  /**
   * The extension groups a bonus lesson's server implements (`hello.features` names): its check
   * also runs the verifier's checks of those groups, so the mistakes the lesson warns about (a
   * room trusted from the frame, …) are caught, not only the core.
   */
  extensions?: string[];
  /**
   * The lesson's server listens with TLS, using this demo key and certificate (files in the
   * lesson folder); its client trusts exactly that certificate. The checks reach it through a
   * TLS bridge (src/lessons/runtime/tls-bridge.ts), since the verifier speaks plain TCP.
   */
  tls?: { key: string; cert: string };
  /**
   * The lesson runs as a cluster (lesson 14): its server is started once per node, sharing a
   * redis-server of its own (`REDIS_URL`, `NODE_ID`), and the checks reach the nodes through a
   * round-robin balancer (src/lessons/runtime/cluster.ts), so their users land on different nodes.
   */
  cluster?: boolean;
  /**
   * `udp`: the lesson's server and client speak UDP, one frame per datagram (lesson 15). Its check
   * is `chatlab verify --udp` (the client checks are TCP's, so they are not run), and its run is
   * recorded through the inspector's UDP tap.
   */
  transport?: 'udp';
  /**
   * The lesson whose code this one's "what changed" diff starts from, when it is not the lesson
   * just before (lessons 14 and 15 start again from lesson 10's complete TCP chat, not from TLS).
   */
  diffFrom?: number;
  /**
   * Why the lesson has no version in a track, and never will (track name → the reason, with what
   * to use instead): lesson 14 in Python, whose standard library has no Redis client. `chatlab
   * lesson` says it in one line, where a lesson not written yet gets "no version yet".
   */
  notInTrack?: Record<string, string>;
  /** Absolute path of the lesson folder. */
  dir: string;
}

interface CatalogueFile {
  accounts: string;
  lessons: Omit<Lesson, 'dir'>[];
}

/** The demo accounts every lesson server accepts, user → password. */
export type Accounts = Record<string, string>;

let cached: { lessons: Lesson[]; accountsFile: string } | undefined;

function load(): { lessons: Lesson[]; accountsFile: string } {
  if (cached) return cached;
  const file = JSON.parse(readFileSync(join(LESSONS_DIR, 'lessons.json'), 'utf8')) as CatalogueFile;
  cached = {
    lessons: file.lessons.map((lesson) => ({ ...lesson, dir: join(LESSONS_DIR, lesson.slug) })),
    accountsFile: join(LESSONS_DIR, file.accounts),
  };
  return cached;
}

/** Every lesson, in order. */
export function listLessons(): Lesson[] {
  return load().lessons;
}

/** The lesson with this number, or `undefined`. */
export function findLesson(number: number): Lesson | undefined {
  return load().lessons.find((lesson) => lesson.number === number);
}

/** The lesson just before this one, or `undefined` for the first. */
export function previousLesson(lesson: Lesson): Lesson | undefined {
  const lessons = load().lessons;
  const index = lessons.findIndex((l) => l.slug === lesson.slug);
  return index > 0 ? lessons[index - 1] : undefined;
}

/** The lesson whose code a lesson's diff starts from: its `diffFrom`, else the lesson just before. */
export function diffBase(lesson: Lesson): Lesson | undefined {
  return lesson.diffFrom !== undefined ? findLesson(lesson.diffFrom) : previousLesson(lesson);
}

/** Absolute path of lessons/accounts.json. */
export function accountsFile(): string {
  return load().accountsFile;
}

/** The demo accounts (lessons/accounts.json). */
export function loadAccounts(): Accounts {
  return JSON.parse(readFileSync(accountsFile(), 'utf8')) as Accounts;
}

/** The code files of a lesson that exist, in reading order: server, client, then the broken copy. */
export function lessonFiles(lesson: Lesson): string[] {
  return [lesson.server, lesson.client, lesson.broken?.file].filter((file): file is string => file !== undefined && existsSync(join(lesson.dir, file)));
}

/** The two-digit form used in folder names and headings: 4 → "04". */
export function lessonNumberLabel(lesson: Lesson): string {
  return String(lesson.number).padStart(2, '0');
}

/** Absolute path of a lesson's README. */
export function readmePath(lesson: Lesson): string {
  return join(lesson.dir, 'README.md');
}

/** A lesson's README as it is on disk. */
export function readReadme(lesson: Lesson): string {
  return readFileSync(readmePath(lesson), 'utf8');
}
