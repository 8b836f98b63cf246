/**
 * Renders one docs page per lesson folder (docs/lessons/NN-slug.md) and the lessons overview
 * (docs/lessons/index.md), from the lesson folders at build time:
 *  - the text is the lesson's README, with its links rewritten for the site;
 *  - the README's generated regions are rebuilt from the files themselves: `diagram` becomes the
 *    lesson's recorded trace drawn by <RecordedDiagram> (the web inspector's diagram component,
 *    with the SVG export to download beside it), `diff` and `fix` become diffs
 *    computed now from the real files (new files are imported with `<<<`, never copied);
 *  - "The complete code" imports every code file of the folder.
 * So the text and the code cannot drift apart.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { LESSONS_DIR, REPO_ROOT, firstHeading, type Lesson } from '../docs/.vitepress/lessons.ts';
import { lessonTraces, readSection } from '../src/lessons/runtime/index.ts';
import { fileDiff, lessonFileDiff } from './docs-lesson-diffs.ts';
import { hasPythonTrack, trackChangesSection, trackFixSection, trackTranscriptSection, withoutPythonBlocks } from './docs-lesson-tracks.ts';

const CODE_EXTENSIONS = new Set(['.mjs', '.js', '.cjs', '.ts', '.py']);

/**
 * The site name of one of a lesson's recorded traces, without extension: the slug for its
 * trace.jsonl, the slug and `-b` for a cluster lesson's trace-b.jsonl.
 */
export function lessonTraceStem(lesson: Lesson, file = 'trace.jsonl'): string {
  return `${lesson.slug}${file.slice('trace'.length, -'.jsonl'.length)}`;
}

/** The site path of a lesson's recorded sequence diagram (exported by docs-prepare.ts). */
export function lessonDiagramPath(lesson: Lesson, file = 'trace.jsonl'): string {
  return `/diagrams/lessons/${lessonTraceStem(lesson, file)}.svg`;
}

/** What a lesson page imports the rows of a recorded diagram from (written by docs-prepare.ts; see the `@diagrams` alias). */
export function lessonDiagramRowsModule(lesson: Lesson, file = 'trace.jsonl'): string {
  return `@diagrams/lessons/${lessonTraceStem(lesson, file)}.json`;
}

/** The site path of a lesson's published recording (a copy of its trace.jsonl, or trace-b.jsonl). */
export function lessonTracePath(lesson: Lesson, file = 'trace.jsonl'): string {
  return `/diagrams/lessons/${lessonTraceStem(lesson, file)}.jsonl`;
}

/** The lesson's code files: server, client, other server*, other client*, the rest; tests left out. */
export function lessonCodeFiles(lesson: Lesson): string[] {
  const stem = (name: string): string => name.slice(0, name.lastIndexOf('.'));
  const rank = (name: string): number => (stem(name) === 'server' ? 0 : stem(name) === 'client' ? 1 : name.startsWith('server') ? 2 : name.startsWith('client') ? 3 : 4);
  return readdirSync(lesson.dir)
    .filter((name) => {
      const ext = name.slice(name.lastIndexOf('.'));
      return CODE_EXTENSIONS.has(ext) && !/\.(test|spec)\./.test(name) && statSync(join(lesson.dir, name)).isFile();
    })
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A markdown fence long enough that no backtick run inside `body` can close it. */
function fenceFor(body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

/** A fenced diff block. */
function diffBlock(patch: string): string[] {
  const fence = fenceFor(patch);
  return [`${fence}diff`, patch, fence, ''];
}

/**
 * Rewrites a README's relative links for the site. `baseDir` is the README's folder. A lesson
 * folder or README becomes its page; a lesson's code file becomes that page's code section; a
 * lesson's trace.jsonl becomes its published recording; lessons/README.md becomes the lessons
 * overview; a docs/ page becomes that page; anything else becomes plain code text, never a dead link.
 */
export function rewriteReadmeLinks(markdown: string, baseDir: string, lessons: Lesson[]): string {
  // Links inside fenced code blocks are code, not links: leave those blocks alone.
  return markdown
    .split(/(^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\2[^\S\n]*$)/m)
    .map((part, i, parts) => (i % 3 === 1 ? part : i % 3 === 2 && parts[i - 1] !== undefined ? '' : rewriteLinks(part, baseDir, lessons)))
    .join('');
}

function rewriteLinks(markdown: string, baseDir: string, lessons: Lesson[]): string {
  const docsDir = join(REPO_ROOT, 'docs');
  return markdown.replace(/(!?)\[([^\]]*)\]\(([^)\s]+)(\s+"[^"]*")?\)/g, (whole, bang: string, text: string, url: string) => {
    if (bang || /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('#') || url.startsWith('/')) return whole;
    const [path = '', hash = ''] = url.split('#');
    const target = resolve(baseDir, path);
    const anchor = hash ? `#${hash}` : '';
    if (target === LESSONS_DIR || target === join(LESSONS_DIR, 'README.md')) return `[${text}](/lessons/${anchor})`;
    const owner = lessons.find((l) => target === l.dir || dirname(target) === l.dir);
    if (owner) {
      if (target === owner.dir || basename(target) === 'README.md') return `[${text}](${owner.link}${anchor})`;
      const trace = lessonTraces(owner).find((t) => t.file === basename(target));
      if (trace) return `[${text}](${lessonTracePath(owner, trace.file)})`;
      if (lessonCodeFiles(owner).includes(basename(target))) return `[${text}](${owner.link}#the-complete-code)`;
    }
    if (target.startsWith(docsDir + '/') && target.endsWith('.md')) {
      const page =
        '/' +
        posix
          .normalize(relative(docsDir, target).replace(/\\/g, '/'))
          .replace(/(^|\/)index\.md$/, '$1')
          .replace(/\.md$/, '');
      return `[${text}](${page}${anchor})`;
    }
    return `${text} (\`${relative(REPO_ROOT, target).replace(/\\/g, '/')}\`)`;
  });
}

/** Replaces the README region `<!-- name:start -->…<!-- name:end -->`; returns null if absent. */
export function replaceRegion(markdown: string, name: string, content: string): string | null {
  const pattern = new RegExp(`<!--\\s*${name}:start\\s*-->[\\s\\S]*?<!--\\s*${name}:end\\s*-->`);
  if (!pattern.test(markdown)) return null;
  return markdown.replace(pattern, () => `\n${content.trim()}\n`);
}

/** The name a lesson page gives the rows of its `index`-th recorded trace (see {@link diagramScript}). */
function diagramRowsName(index: number): string {
  return `recording${index}`;
}

/** The page's `<script setup>`: it imports the rows of each recorded trace of the lesson, at build time. */
function diagramScript(lesson: Lesson): string[] {
  const imports = lessonTraces(lesson)
    .map(({ file }, index) => ({ file, index }))
    .filter(({ file }) => existsSync(join(lesson.dir, file)))
    .map(({ file, index }) => `import ${diagramRowsName(index)} from '${lessonDiagramRowsModule(lesson, file)}';`);
  return imports.length > 0 ? ['<script setup>', ...imports, '</script>', ''] : [];
}

/**
 * A recorded diagram of a lesson (its trace.jsonl, or a cluster node's trace-b.jsonl, the
 * `index`-th of lessonTraces), as the page shows it: the interactive diagram, drawn from the rows
 * {@link diagramScript} imports, with its SVG to download. In the README's text, which is shown
 * `v-pre` (not compiled by Vue), it closes that block around itself.
 */
function diagramSection(lesson: Lesson, file = 'trace.jsonl', index = 0, inReadme = false): string {
  if (!existsSync(join(lesson.dir, file))) return 'This lesson has no recorded trace yet.\n';
  const recordedAt = lessonTraces(lesson)[index]?.node;
  const node = recordedAt ? `, node ${recordedAt.toUpperCase()}` : '';
  return [
    ...(inReadme ? ['</div>', ''] : []),
    `<RecordedDiagram class="lesson-diagram" :diagram="${diagramRowsName(index)}" label="Sequence diagram of lesson ${lesson.number}${node}, recorded from a real run" svg="${lessonDiagramPath(lesson, file)}" />`,
    '',
    `<p class="diagram-caption">Recorded by the inspector from a real run of this lesson (<a href="${lessonTracePath(lesson, file)}" target="_blank">${file}</a>) and drawn by the web inspector's own diagram (<code>chatlab inspect --web</code>): hover, focus or click an arrow for its frame, zoom with − and +. The SVG is <code>chatlab inspect export --format svg</code> of the same recording. Replay it from the repository root: <code>npx chatlab inspect replay lessons/${lesson.slug}/${file}</code>.</p>`,
    '',
    ...(inReadme ? ['<div v-pre class="lesson-readme">', ''] : []),
  ].join('\n');
}

/** What changed since the previous lesson: a fresh diff per changed file, new files imported whole. */
function changesSection(lesson: Lesson, previous: Lesson | undefined, files: string[]): string {
  const lines: string[] = [];
  const main = files.filter((f) => f !== lesson.broken?.file);
  if (!previous) {
    for (const file of main) lines.push(`Everything is new: here is the whole \`${file}\`.`, '', `<<< @/../lessons/${lesson.slug}/${file}`, '');
    return lines.join('\n');
  }
  let changed = 0;
  for (const file of main) {
    if (!existsSync(join(previous.dir, file))) {
      changed++;
      lines.push(`\`${file}\` is new in this lesson:`, '', `<<< @/../lessons/${lesson.slug}/${file}`, '');
      continue;
    }
    const patch = lessonFileDiff(previous, lesson, file);
    if (patch === null) {
      lines.push(`\`${file}\` is unchanged since [lesson ${previous.number}](${previous.link}).`, '');
      continue;
    }
    changed++;
    lines.push(`\`${file}\`, compared with [lesson ${previous.number}](${previous.link}#the-complete-code):`, '', ...diffBlock(patch));
  }
  if (changed === 0) lines.push(`No code changed since [lesson ${previous.number}](${previous.link}).`, '');
  return lines.join('\n');
}

/** The fix of a deliberately broken variant: the diff from the broken file to the working one. */
function fixSection(lesson: Lesson, files: string[]): string | null {
  const broken = lesson.broken;
  if (!broken || !files.includes(lesson.server) || !files.includes(broken.file)) return null;
  const patch = fileDiff(`lessons/${lesson.slug}/${broken.file}`, `lessons/${lesson.slug}/${lesson.server}`);
  return patch ? diffBlock(patch).join('\n') : null;
}

/** Shell commands to run the lesson by hand (only when the README has no "Run it" of its own). */
function runSection(lesson: Lesson, files: string[]): string[] {
  const run = (file: string): string => (file.endsWith('.py') ? 'python3' : file.endsWith('.ts') ? 'npx tsx' : 'node');
  const server = files.includes(lesson.server) ? lesson.server : undefined;
  const client = lesson.client !== undefined && files.includes(lesson.client) ? lesson.client : undefined;
  const lines: string[] = ['## Run it', '', 'From the repository root:', '', '```sh'];
  if (server) lines.push(`PORT=7070 ${run(server)} lessons/${lesson.slug}/${server}`);
  if (client) lines.push(`HOST=127.0.0.1 PORT=7070 CHATLAB_USER=alice CHATLAB_PASSWORD=wonderland ${run(client)} lessons/${lesson.slug}/${client}`);
  lines.push('```', '');
  return lines;
}

/** The README without its first `# ` heading (the page supplies its own). */
function readmeBody(dir: string): string {
  const path = join(dir, 'README.md');
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  return firstHeading(text) ? text.replace(/^#\s+.+$/m, '').trim() : text.trim();
}

function escapeText(text: string): string {
  return text.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\{\{/g, '&#123;&#123;');
}

/** The markdown page of one lesson. */
export function renderLessonPage(lesson: Lesson, previous: Lesson | undefined, lessons: Lesson[]): string {
  const files = lessonCodeFiles(lesson);
  const label = lesson.bonus ? `Bonus ${lesson.number}` : `Lesson ${lesson.number}`;
  const lines: string[] = [
    '---',
    `title: ${JSON.stringify(`${label}: ${lesson.title}`)}`,
    'outline: [2, 3]',
    '---',
    '',
    `<!-- Generated by scripts/docs-prepare.ts from lessons/${lesson.slug}/. Do not edit: edit the lesson folder. -->`,
    '',
    ...diagramScript(lesson),
    `# ${label}: ${escapeText(lesson.title)}`,
    '',
  ];
  if (lesson.idea) lines.push(`> ${escapeText(lesson.idea)}`, '');

  // The README, its links made site links, its generated regions rebuilt from the files.
  let body = rewriteReadmeLinks(readmeBody(lesson.dir), lesson.dir, lessons);
  // A lesson in two languages: its per-language parts become code groups, a tab per language.
  const python = hasPythonTrack(lesson);
  if (python) {
    const [nodeRun, pythonRun] = [readSection(body, 'transcript'), readSection(body, 'transcript-python')];
    body = withoutPythonBlocks(body);
    if (nodeRun !== null && pythonRun !== null) body = replaceRegion(body, 'transcript', trackTranscriptSection(nodeRun, pythonRun)) ?? body;
  }
  const withDiagram = replaceRegion(body, 'diagram', diagramSection(lesson, 'trace.jsonl', 0, true));
  if (withDiagram !== null) body = withDiagram;
  // A cluster lesson's further nodes each have their own recording and diagram.
  for (const [index, { file, section }] of lessonTraces(lesson).entries()) {
    if (index > 0) body = replaceRegion(body, section, diagramSection(lesson, file, index, true)) ?? body;
  }
  const withChanges = replaceRegion(body, 'diff', python ? trackChangesSection(lesson, previous) : changesSection(lesson, previous, files));
  if (withChanges !== null) body = withChanges;
  const fix = python ? trackFixSection(lesson) : fixSection(lesson, files);
  if (fix !== null) body = replaceRegion(body, 'fix', fix) ?? body;
  if (body) lines.push('<div v-pre class="lesson-readme">', '', body, '', '</div>', '');

  if (withDiagram === null) lines.push('## On the wire', '', diagramSection(lesson));
  if (withChanges === null) {
    lines.push(previous ? `## What changed since lesson ${previous.number}` : '## Where it starts', '', changesSection(lesson, previous, files));
  }
  if (!/^##\s+Run it\b/m.test(body)) lines.push(...runSection(lesson, files));

  lines.push('## The complete code', '');
  if (files.length) {
    // In a div of its own: the page has other code groups (a tab per language), this is the one of the files.
    lines.push(`Every file of \`lessons/${lesson.slug}/\`, as it is in the repository:`, '', '<div class="lesson-files">', '', '::: code-group', '');
    for (const file of files) {
      const broken = lesson.broken && [lesson.broken.file, lesson.broken.file.replace(/\.mjs$/, '.py')].includes(file);
      lines.push(`<<< @/../lessons/${lesson.slug}/${file} [${file}${broken ? ' (broken on purpose)' : ''}]`);
    }
    lines.push('', ':::', '', '</div>', '');
  } else {
    lines.push('This lesson has no code files.', '');
  }
  if (lesson.broken && files.includes(lesson.broken.file)) {
    const { file, bug, failsAt } = lesson.broken;
    lines.push(`::: warning ${file} is broken on purpose`, `It ${escapeText(bug)}.${failsAt ? ` [The verifier](/verifier) stops it at step ${failsAt}.` : ''}`, ':::', '');
  }
  return lines.join('\n');
}

/** The lessons overview page (docs/lessons/index.md), from lessons/README.md when there is one. */
export function renderLessonsIndex(lessons: Lesson[]): string {
  const lines = ['<!-- Generated by scripts/docs-prepare.ts from the lessons/ folder. Do not edit. -->', ''];
  const readme = join(LESSONS_DIR, 'README.md');
  if (existsSync(readme)) {
    const text = readFileSync(readme, 'utf8');
    const title = firstHeading(text) ?? 'Lessons';
    lines.push(`# ${escapeText(title)}`, '', '<div v-pre class="lessons-readme">', '', rewriteReadmeLinks(readmeBody(LESSONS_DIR), LESSONS_DIR, lessons), '', '</div>', '');
    return lines.join('\n');
  }
  lines.push(
    '# Lessons',
    '',
    'Each lesson is a folder under `lessons/` with a runnable server and client. Lesson N adds one of the ten steps of',
    '[the protocol](/protocol#the-ten-steps) to lesson N−1.',
    '',
  );
  const table = (list: Lesson[]): string[] => ['| # | Lesson |', '|---|---|', ...list.map((l) => `| ${l.number} | [${escapeText(l.title)}](${l.link}) |`), ''];
  if (!lessons.length) lines.push('No lessons yet.', '');
  if (lessons.some((l) => !l.bonus)) lines.push(...table(lessons.filter((l) => !l.bonus)));
  if (lessons.some((l) => l.bonus)) lines.push('## Bonus lessons', '', ...table(lessons.filter((l) => l.bonus)));
  return lines.join('\n');
}
