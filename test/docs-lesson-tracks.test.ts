/**
 * The lesson pages' language switch: a lesson with a Python track shows its per-language parts
 * as VitePress code groups, a Node.js tab and a Python tab, rebuilt from the files; a Node-only
 * lesson keeps its single-language page.
 */
import { describe, expect, it } from 'vitest';
import { listLessons } from '../docs/.vitepress/lessons.ts';
import { hasPythonTrack, trackTranscriptSection } from '../scripts/docs-lesson-tracks.ts';
import { renderLessonPage } from '../scripts/docs-lessons.ts';

const lessons = listLessons();
const page = (slug: string): string => {
  const i = lessons.findIndex((l) => l.slug === slug);
  return renderLessonPage(lessons[i]!, lessons[i - 1], lessons);
};

describe('lesson pages in two languages', () => {
  it('puts the diff, the fix and every terminal of lesson 04 in code groups, Node and Python side by side', () => {
    const text = page('04-login');
    expect(text).toMatch(/::: code-group\n\n`{3,}diff \[server\.mjs\]\n--- lessons\/03-accept\/server\.mjs[\s\S]*?`{3,}diff \[server\.py\]\n--- lessons\/03-accept\/server\.py/);
    expect(text).toMatch(/`{3,}diff \[server-naive\.mjs → server\.mjs\][\s\S]*?`{3,}diff \[server-naive\.py → server\.py\]/);
    expect(text).toMatch(/Terminal 1, the server:\n\n::: code-group\n\n`{3,}text \[Node\.js\]\n\$ node server\.mjs[\s\S]*?`{3,}text \[Python\]\n\$ python3 server\.py/);
    expect(text).toContain('[server-naive.py (broken on purpose)]');
    expect(text).not.toContain('<details>');
    expect(text).not.toContain('-python:start');
  });

  it('imports both first programs whole in lesson 01', () => {
    expect(page('01-listen')).toContain('::: code-group\n\n<<< @/../lessons/01-listen/server.mjs [server.mjs]\n<<< @/../lessons/01-listen/server.py [server.py]');
  });

  it('leaves a Node-only lesson as it was', () => {
    // The first lesson without a server.py, while there is one (lesson 14 when this was written).
    const nodeOnly = lessons.find((lesson) => !hasPythonTrack(lesson));
    if (nodeOnly) {
      const text = page(nodeOnly.slug);
      expect(text).not.toContain('[Python]');
      expect(text).not.toContain('.py');
    }
    expect(page('13-tls')).toContain('<<< @/../lessons/13-tls/server.py [server.py]');
  });

  it('pairs the terminals of the two runs one to one', () => {
    const run = (cmd: string): string => `Terminal 1, the server:\n\n\`\`\`text\n$ ${cmd}\nlistening\n\`\`\`\n\nTerminal 2, alice's client:\n\n\`\`\`text\n$ ${cmd} c\nhi\n\`\`\``;
    const out = trackTranscriptSection(run('node server.mjs'), run('python3 server.py'));
    expect(out.match(/::: code-group/g)).toHaveLength(2);
    expect(out).toContain("Terminal 2, alice's client:\n\n::: code-group\n\n```text [Node.js]\n$ node server.mjs c\nhi\n```\n```text [Python]\n$ python3 server.py c\nhi\n```");
  });
});
