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

  for (const track of ['node', 'python'] as const) {
    it(`lays out the data files the programs read beside them, in the ${track} track: the demo key for TLS, the postcard for files`, () => {
      const dir = join(scratch, `data-${track}`);
      const tls = initLesson(findTrackLesson(13, track)!, dir);
      // Lesson 13's step needs its demo key and certificate; the copied lesson 12 code, its postcard.
      expect(tls.data).toEqual(['demo-cert.pem', 'demo-key.pem', 'postcard.txt']);
      for (const [file, source] of [
        ['demo-key.pem', 13],
        ['demo-cert.pem', 13],
        ['postcard.txt', 12],
      ] as const)
        expect(readFileSync(join(tls.folder, file), 'utf8'), file).toBe(readFileSync(join(findTrackLesson(source, track)!.dir, file), 'utf8'));
      // Neither tests, traces, scenarios nor READMEs: those are the lesson's, not the programs'.
      expect(readdirSync(tls.folder).sort()).toEqual([...tls.copied, ...tls.data].sort());
      expect(tls.copied).toHaveLength(2);
      expect(initLesson(findTrackLesson(12, track)!, dir).data).toEqual(['postcard.txt']);
      expect(initLesson(findTrackLesson(15, track)!, dir).data).toEqual([]);
    });
  }

  it('never overwrites a folder that holds work', () => {
    const dir = join(scratch, 'busy');
    mkdirSync(join(dir, '06-say'), { recursive: true });
    writeFileSync(join(dir, '06-say', 'server.py'), '# my work\n');
    expect(() => initLesson(findTrackLesson(6, 'python')!, dir)).toThrow(InitTargetExistsError);
    expect(readFileSync(join(dir, '06-say', 'server.py'), 'utf8')).toBe('# my work\n');
  });
});
