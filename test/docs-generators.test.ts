/**
 * The docs generators, without building the site: the CLI reference covers the whole commander
 * tree, lesson pages import the real files and rebuild the README's generated regions, README
 * links become site links, and the architecture diagram is read from the real imports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/program.ts';
import { LESSONS_DIR, REPO_ROOT, listLessons } from '../docs/.vitepress/lessons.ts';
import { commandPath, renderCliReference, walkCommands } from '../scripts/docs-cli.ts';
import { lessonCodeFiles, renderLessonPage, renderLessonsIndex, replaceRegion, rewriteReadmeLinks } from '../scripts/docs-lessons.ts';
import { SERVER_SEAM, moduleGraph, renderGraphSvg, scanFolder, scanModules } from '../scripts/docs-architecture.ts';
import { RUNTIME_GRAPH } from '../scripts/docs-runtime-graph.ts';

const lessons = listLessons();

describe('CLI reference', () => {
  const program = buildProgram();
  const page = renderCliReference(program);

  it('has a section, the usage and every option of every command', () => {
    const commands = walkCommands(program);
    expect(commands.length).toBeGreaterThan(1);
    for (const command of commands) {
      expect(page).toContain(`# ${commandPath(command)}\n`);
      expect(page).toContain(command.createHelp().commandUsage(command));
      for (const option of (command as Command).options) {
        if (!(option as { hidden?: boolean }).hidden) expect(page, `${commandPath(command)} ${option.flags}`).toContain(option.flags);
      }
    }
  });

  it('keeps the examples commands add to their help', () => {
    const withExamples = walkCommands(program).filter((c) => {
      let text = '';
      c.configureOutput({ writeOut: (s) => void (text += s) });
      c.outputHelp();
      return text.includes('Examples:');
    });
    for (const command of withExamples) expect(page, commandPath(command)).toMatch(/Examples:/);
  });
});

describe('lessons', () => {
  it('lists the lessons of the index, in order', () => {
    const index = JSON.parse(readFileSync(join(LESSONS_DIR, 'lessons.json'), 'utf8')) as { lessons: { slug: string; title: string }[] };
    const onDisk = index.lessons.filter((l) => existsSync(join(LESSONS_DIR, l.slug)));
    expect(lessons.map((l) => l.slug)).toEqual(onDisk.map((l) => l.slug));
    expect(lessons.map((l) => l.title)).toEqual(onDisk.map((l) => l.title));
  });

  for (const [i, lesson] of lessons.entries()) {
    it(`renders ${lesson.slug} from its folder`, () => {
      const page = renderLessonPage(lesson, lessons[i - 1], lessons);
      for (const file of lessonCodeFiles(lesson)) expect(page).toContain(`<<< @/../lessons/${lesson.slug}/${file}`);
      if (existsSync(join(lesson.dir, 'trace.jsonl'))) {
        // The interactive diagram, its rows imported at build time, its SVG to download.
        expect(page).toContain(`import recording0 from '@diagrams/lessons/${lesson.slug}.json';`);
        expect(page).toContain(`<RecordedDiagram class="lesson-diagram" :diagram="recording0"`);
        expect(page).toContain(`svg="/diagrams/lessons/${lesson.slug}.svg"`);
        expect(page).not.toContain('<img src="/diagrams/lessons/');
      }
      // Regions generated into the README are rebuilt, not copied: no Mermaid, no markers left.
      expect(page).not.toMatch(/```mermaid/);
      expect(page).not.toMatch(/<!--\s*(diagram|diff|fix):(start|end)\s*-->/);
      // Every markdown link is a site link or an anchor, never a path into the repository.
      for (const [, url] of page.matchAll(/\]\(([^)\s]+)\)/g)) {
        expect(url, `${lesson.slug}: ${url}`).toMatch(/^(\/|#|https?:)/);
      }
    });
  }

  it('renders the overview with a link to every lesson', () => {
    const page = renderLessonsIndex(lessons);
    for (const lesson of lessons.filter((l) => !l.bonus)) expect(page).toContain(`](${lesson.link})`);
  });

  it('rewrites README links into site links, and leaves code alone', () => {
    const first = lessons[0];
    const second = lessons[1];
    if (!first || !second) return;
    const text = [
      `[next](../${second.slug}/README.md) [all](../README.md) [rec](trace.jsonl) [code](server.mjs)`,
      `[spec](../../docs/protocol.md#errors) [web](https://example.com) [accounts](../accounts.json)`,
      '```js',
      `// [kept](../${second.slug}/README.md)`,
      '```',
    ].join('\n');
    const out = rewriteReadmeLinks(text, first.dir, lessons);
    expect(out).toContain(`[next](/lessons/${second.slug})`);
    expect(out).toContain('[all](/lessons/)');
    expect(out).toContain(`[rec](/diagrams/lessons/${first.slug}.jsonl)`);
    expect(out).toContain(`[code](/lessons/${first.slug}#the-complete-code)`);
    expect(out).toContain('[spec](/protocol#errors)');
    expect(out).toContain('[web](https://example.com)');
    expect(out).toContain('accounts (`lessons/accounts.json`)');
    expect(out).toContain(`// [kept](../${second.slug}/README.md)`);
  });

  it('replaces a generated region, or says it is absent', () => {
    expect(replaceRegion('a\n<!-- diff:start -->\nold\n<!-- diff:end -->\nb', 'diff', 'new')).toBe('a\n\nnew\n\nb');
    expect(replaceRegion('no markers', 'diff', 'new')).toBeNull();
  });
});

describe('architecture diagrams', () => {
  const modules = scanModules(join(REPO_ROOT, 'src'));

  it('reads the module graph from the real imports', () => {
    const byName = new Map(modules.map((m) => [m.name, m]));
    expect(byName.get('protocol')?.imports.size).toBe(0);
    expect(byName.get('server')?.imports.has('protocol')).toBe(true);
    expect(byName.get('cli')?.imports.has('server')).toBe(true);
  });

  it('draws every module, with the codec on the bottom row', () => {
    const graph = moduleGraph(modules);
    expect(graph.nodes.find((n) => n.id === 'protocol')?.layer).toBe(0);
    const svg = renderGraphSvg(graph, 'modules');
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const m of modules) expect(svg).toContain(`src/${m.name}`);
    expect(svg.match(/<path /g)?.length).toBe(graph.edges.length + 1); // + the arrowhead marker
  });

  it('draws the server seam from the real imports: the rules see Peer and Clock, never the TCP side', () => {
    const seam = scanFolder(join(REPO_ROOT, 'src', 'server'), Object.keys(SERVER_SEAM));
    expect(seam.map((m) => m.name).sort()).toEqual(Object.keys(SERVER_SEAM).sort());
    const byName = new Map(seam.map((m) => [m.name, m.imports]));
    for (const seen of ['peer', 'clock', 'hub']) expect(byName.get('core')?.has(seen), `core imports ${seen}`).toBe(true);
    for (const rule of ['core', 'peer', 'clock', 'hub', 'recipients', 'transfers', 'login-throttle']) {
      for (const tcp of ['connection', 'chat-server', 'outbox']) expect(byName.get(rule)?.has(tcp), `${rule} imports ${tcp}`).toBe(false);
    }
    expect(byName.get('connection')?.has('peer')).toBe(true);
    const svg = renderGraphSvg(
      moduleGraph(
        seam,
        (name) => SERVER_SEAM[name],
        (m) => `src/server/${m.name}.ts`,
      ),
      'seam',
    );
    for (const label of Object.values(SERVER_SEAM)) expect(svg).toContain(label);
  });

  it('draws the run-time picture', () => {
    const svg = renderGraphSvg(RUNTIME_GRAPH, 'runtime');
    for (const node of RUNTIME_GRAPH.nodes) expect(svg).toContain(node.label.replace(/&/g, '&amp;'));
  });
});
