import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLesson, type Lesson } from './catalogue.ts';
import { cachedStatus, checkCacheFile, lessonHash, readCheckCache, saveCheckResult, type LessonCheckResult } from './check.ts';
import { inTrack } from './tracks.ts';

const lesson = findLesson(1) as Lesson;
let dir: string;
let previous: string | undefined;

beforeAll(() => {
  previous = process.env.CHATLAB_CACHE_DIR;
  dir = mkdtempSync(join(tmpdir(), 'chatlab-cache-'));
  process.env.CHATLAB_CACHE_DIR = dir;
});

afterAll(() => {
  if (previous === undefined) delete process.env.CHATLAB_CACHE_DIR;
  else process.env.CHATLAB_CACHE_DIR = previous;
  rmSync(dir, { recursive: true, force: true });
});

describe('the lesson check cache', () => {
  it('remembers results per lesson, trusted only for the same files', () => {
    expect(checkCacheFile()).toBe(join(dir, 'lesson-checks.json'));
    expect(cachedStatus(lesson)).toEqual({ status: 'unchecked' });
    saveCheckResult({ lesson: 1, slug: lesson.slug, dir: lesson.dir, passed: true, hash: lessonHash(lesson) } as LessonCheckResult);
    expect(cachedStatus(lesson).status).toBe('passed');
    saveCheckResult({ lesson: 1, slug: lesson.slug, dir: lesson.dir, passed: false, hash: lessonHash(lesson) } as LessonCheckResult);
    expect(cachedStatus(lesson).status).toBe('failed');
    // The files changed since: the old result says nothing about them.
    const cache = readCheckCache();
    expect(cachedStatus(lesson, { ...cache, [lesson.dir]: { passed: true, hash: 'something-else', at: '' } }).status).toBe('stale');
  });

  it('keeps the results of another checkout of the same lessons apart', () => {
    // The same files under another path (a second clone): same slug, same hash, not checked there.
    const otherCheckout = mkdtempSync(join(tmpdir(), 'chatlab-other-checkout-'));
    try {
      cpSync(lesson.dir, join(otherCheckout, lesson.slug), { recursive: true });
      const other: Lesson = { ...lesson, dir: join(otherCheckout, lesson.slug) };
      expect(lessonHash(other)).toBe(lessonHash(lesson));
      saveCheckResult({ lesson: 1, slug: lesson.slug, dir: lesson.dir, passed: true, hash: lessonHash(lesson) } as LessonCheckResult);
      expect(cachedStatus(lesson).status).toBe('passed');
      expect(cachedStatus(other)).toEqual({ status: 'unchecked' });
    } finally {
      rmSync(otherCheckout, { recursive: true, force: true });
    }
  });

  it("keeps each track's results apart: a Python pass says nothing about the Node files", () => {
    const lesson2 = findLesson(2) as Lesson;
    const python = inTrack(lesson2, 'python') as Lesson;
    saveCheckResult({ lesson: 2, slug: python.slug, dir: python.dir, track: 'python', passed: true, hash: lessonHash(python) } as LessonCheckResult);
    expect(cachedStatus(python).status).toBe('passed');
    expect(cachedStatus(lesson2)).toEqual({ status: 'unchecked' });
    expect(lessonHash(python)).not.toBe(lessonHash(lesson2));
  });

  it('changes the hash with the code', () => {
    expect(lessonHash(lesson)).toMatch(/^[0-9a-f]{16}$/);
    expect(lessonHash(findLesson(2) as Lesson)).not.toBe(lessonHash(lesson));
  });
});
