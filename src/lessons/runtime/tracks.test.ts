import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findLesson, listLessons } from './catalogue.ts';
import { checkCacheKey, commandLine, findTrackLesson, inTrack, listTrackLessons, previousTrackLesson, programCommand, readRememberedTrack, rememberTrack, trackOf } from './tracks.ts';

const scratch = mkdtempSync(join(tmpdir(), 'chatlab-tracks-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('lesson tracks', () => {
  it('sees a lesson through the Python track: same folder, the .py files, the broken copy renamed', () => {
    const node = findLesson(4)!;
    const python = inTrack(node, 'python')!;
    expect(python).toMatchObject({ dir: node.dir, step: 4, server: 'server.py', client: 'client.py', broken: { file: 'server-naive.py', failsAt: 4 } });
    expect(trackOf(python)).toBe('python');
    expect(trackOf(node)).toBe('node');
    expect(inTrack(python, 'node')).toEqual(node);
  });

  it('leaves out a lesson whose program is missing in that track', () => {
    // A copy of lesson 13 in a folder that holds its Node program only.
    const nodeOnly = join(scratch, 'node-only');
    mkdirSync(nodeOnly);
    writeFileSync(join(nodeOnly, 'server.mjs'), '');
    expect(inTrack({ ...findLesson(13)!, dir: nodeOnly }, 'python')).toBeUndefined();
    // The Python track lists exactly the lessons whose folder has a server.py.
    const withPython = listLessons().filter((lesson) => existsSync(join(lesson.dir, 'server.py')));
    expect(listTrackLessons('python').map((l) => l.number)).toEqual(withPython.map((l) => l.number));
    expect(withPython.map((l) => l.number)).toEqual(expect.arrayContaining([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15]));
    for (const lesson of listLessons()) expect(findTrackLesson(lesson.number, 'python') !== undefined, lesson.slug).toBe(withPython.includes(lesson));
  });

  it('finds the previous lesson in the same track', () => {
    expect(previousTrackLesson(findTrackLesson(5, 'python')!)).toMatchObject({ slug: '04-login', server: 'server.py' });
    expect(previousTrackLesson(findTrackLesson(1, 'python')!)).toBeUndefined();
    // The UDP lesson builds on lesson 10 (its diffFrom), in Python as in Node.js.
    expect(previousTrackLesson(findTrackLesson(15, 'python')!)).toMatchObject({ slug: '10-disconnect', server: 'server.py' });
  });

  it('runs each program with its interpreter, and shows the command a learner types', () => {
    expect(programCommand('server.mjs')).toEqual([process.execPath, 'server.mjs']);
    expect(programCommand('client.py')[1]).toBe('client.py');
    expect(commandLine('server-naive.py')).toBe('python3 server-naive.py');
    expect(commandLine('client.mjs')).toBe('node client.mjs');
  });

  it('keeps the cache key of the Node track as it was, and another one for Python', () => {
    expect(checkCacheKey('/x/lessons/04-login', 'node')).toBe('/x/lessons/04-login');
    expect(checkCacheKey('/x/lessons/04-login', 'python')).toBe('/x/lessons/04-login#python');
  });

  it('remembers the chosen track; a missing or broken setting means node', () => {
    const file = join(scratch, 'nested', 'lesson-track.json');
    expect(readRememberedTrack(file)).toBe('node');
    rememberTrack(file, 'python');
    expect(readRememberedTrack(file)).toBe('python');
    writeFileSync(file, '{"lang": "cobol"}');
    expect(readRememberedTrack(file)).toBe('node');
    writeFileSync(file, 'not json');
    expect(readRememberedTrack(file)).toBe('node');
  });
});
