import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLesson, type Lesson } from './catalogue.ts';
import { cachedStatus, checkCacheFile, lessonHash, readCheckCache, saveCheckResult, type LessonCheckResult } from './check.ts';

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
    saveCheckResult({ lesson: 1, slug: lesson.slug, passed: true, hash: lessonHash(lesson) } as LessonCheckResult);
    expect(cachedStatus(lesson).status).toBe('passed');
    saveCheckResult({ lesson: 1, slug: lesson.slug, passed: false, hash: lessonHash(lesson) } as LessonCheckResult);
    expect(cachedStatus(lesson).status).toBe('failed');
    // The files changed since: the old result says nothing about them.
    const cache = readCheckCache();
    expect(cachedStatus(lesson, { ...cache, [lesson.slug]: { passed: true, hash: 'something-else', at: '' } }).status).toBe('stale');
  });

  it('changes the hash with the code', () => {
    expect(lessonHash(lesson)).toMatch(/^[0-9a-f]{16}$/);
    expect(lessonHash(findLesson(2) as Lesson)).not.toBe(lessonHash(lesson));
  });
});
