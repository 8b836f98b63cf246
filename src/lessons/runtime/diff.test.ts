import { describe, expect, it } from 'vitest';
import { findLesson, type Lesson } from './catalogue.ts';
import { colourDiff, fixDiff, lessonChanges, unifiedDiff } from './diff.ts';

function lesson(n: number): Lesson {
  const found = findLesson(n);
  if (!found) throw new Error(`no lesson ${n}`);
  return found;
}

describe('lesson diffs', () => {
  it('writes a git-style unified diff, without the === banner', () => {
    const diff = unifiedDiff('a/x.mjs', 'b/x.mjs', 'one\ntwo\n', 'one\nthree\n');
    expect(diff).toBe('--- a/x.mjs\n+++ b/x.mjs\n@@ -1,2 +1,2 @@\n one\n-two\n+three');
  });

  it('shows the first lesson whole, a new client whole, and changed files as diffs', () => {
    const first = lessonChanges(lesson(1));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ file: 'server.mjs', status: 'new' });

    const second = lessonChanges(lesson(2));
    expect(second.map((c) => [c.file, c.status])).toEqual([
      ['server.mjs', 'changed'],
      ['client.mjs', 'new'],
    ]);
    expect(second[0]?.text).toContain('+++ 02-connect/server.mjs');
    expect(second[0]?.text).toContain("+  socket.on('error', () => {});");
  });

  it('counts a file whose only change is its title line as unchanged', () => {
    const client = lessonChanges(lesson(9)).find((c) => c.file === 'client.mjs');
    expect(client?.status).toBe('unchanged');
  });

  it('diffs a broken server against its fix', () => {
    expect(fixDiff(lesson(4))).toContain("-  socket.on('data', (bytes) => handleLine(socket, session, bytes));");
    expect(fixDiff(lesson(3))).toBeNull();
  });

  it('colours additions, removals and hunks', () => {
    const coloured = colourDiff('@@ -1 +1 @@\n-old\n+new\n same');
    expect(coloured).toBe('\u001b[36m@@ -1 +1 @@\u001b[39m\n\u001b[31m-old\u001b[39m\n\u001b[32m+new\u001b[39m\n same');
  });
});
