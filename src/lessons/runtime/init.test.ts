import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accountsFile } from './catalogue.ts';
import { initLesson, InitTargetExistsError } from './init.ts';
import { findTrackLesson } from './tracks.ts';

const scratch = mkdtempSync(join(tmpdir(), 'chatlab-init-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('lesson init', () => {
  it("lays out the previous lesson's Python code, with the accounts where the code looks for them", () => {
    const lesson = findTrackLesson(5, 'python')!;
    const previous = findTrackLesson(4, 'python')!;
    const dir = join(scratch, 'python');
    const result = initLesson(lesson, dir);
    expect(result.folder).toBe(join(dir, '05-welcome'));
    expect(result.copied).toEqual(['server.py', 'client.py']);
    expect(readdirSync(result.folder).sort()).toEqual(['client.py', 'server.py']);
    expect(readFileSync(join(result.folder, 'server.py'), 'utf8')).toBe(readFileSync(join(previous.dir, 'server.py'), 'utf8'));
    expect(readFileSync(join(dir, 'accounts.json'), 'utf8')).toBe(readFileSync(accountsFile(), 'utf8'));
  });

  it('copies only what the previous lesson has (no client before lesson 2), and nothing for lesson 1', () => {
    expect(initLesson(findTrackLesson(2, 'node')!, join(scratch, 'node')).copied).toEqual(['server.mjs']);
    const first = initLesson(findTrackLesson(1, 'python')!, join(scratch, 'first'));
    expect(first.from).toBeUndefined();
    expect(readdirSync(first.folder)).toEqual([]);
  });

  it('never overwrites a folder that holds work', () => {
    const dir = join(scratch, 'busy');
    mkdirSync(join(dir, '06-say'), { recursive: true });
    writeFileSync(join(dir, '06-say', 'server.py'), '# my work\n');
    expect(() => initLesson(findTrackLesson(6, 'python')!, dir)).toThrow(InitTargetExistsError);
    expect(readFileSync(join(dir, '06-say', 'server.py'), 'utf8')).toBe('# my work\n');
  });
});
