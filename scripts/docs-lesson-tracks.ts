/**
 * The language switch of the lesson pages: a lesson README holds the per-language parts twice
 * (the Node sections, and their Python twins folded in `<details>` blocks; see
 * src/lessons/track-readme.ts). On the site they become VitePress code groups, a tab per
 * language: what changed (one group per program, rebuilt from the files), the fix of a broken
 * copy, and each terminal of the transcript.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Lesson } from '../docs/.vitepress/lessons.ts';
import { fileDiff, lessonFileDiff } from './docs-lesson-diffs.ts';

/** The Python twin of a Node program file: `server.mjs` → `server.py`. */
function pythonTwin(file: string): string {
  return file.replace(/\.mjs$/, '.py');
}

/** Whether a lesson has its Python track (its `server.py` beside `server.mjs`). */
export function hasPythonTrack(lesson: Lesson): boolean {
  return existsSync(join(lesson.dir, pythonTwin(lesson.server)));
}

/** The folded Python blocks of a README (their content goes into the code groups instead). */
const PYTHON_BLOCK = /\n*<details>\s*<summary>[^\n]*<\/summary>\s*<!-- (diff|fix|transcript)-python:start -->[\s\S]*?<!-- \1-python:end -->\s*<\/details>\n*/g;

/** A README without its folded Python blocks. */
export function withoutPythonBlocks(markdown: string): string {
  return markdown.replace(PYTHON_BLOCK, '\n\n');
}

/** A markdown fence long enough that no backtick run inside `body` can close it. */
function fenceFor(body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

/** One tab of a code group: a fenced block with its label. */
function tab(lang: string, label: string, body: string): string {
  const fence = fenceFor(body);
  return `${fence}${lang} [${label}]\n${body}\n${fence}`;
}

function codeGroup(tabs: string[]): string {
  return ['::: code-group', '', ...tabs, '', ':::', ''].join('\n');
}

/**
 * What changed since the previous lesson, for both tracks: per program (server, client), a code
 * group with the Node tab and the Python tab, each a fresh diff (or the whole file, imported,
 * when it is new).
 */
export function trackChangesSection(lesson: Lesson, previous: Lesson | undefined): string {
  const lines: string[] = [];
  for (const node of [lesson.server, lesson.client].filter((f): f is string => f !== undefined)) {
    const files = [node, pythonTwin(node)].filter((file) => existsSync(join(lesson.dir, file)));
    const isNew = (file: string): boolean => !previous || !existsSync(join(previous.dir, file));
    const diffs = files.map((file) => (isNew(file) || !previous ? null : lessonFileDiff(previous, lesson, file)));
    const names = files.map((file) => `\`${file}\``).join(' and ');
    if (files.every(isNew)) {
      lines.push(previous ? `${names}: new in this lesson.` : `Everything is new: here is the whole of ${names}.`, '');
      lines.push(codeGroup(files.map((file) => `<<< @/../lessons/${lesson.slug}/${file} [${file}]`)));
      continue;
    }
    if (diffs.every((diff) => diff === null)) {
      lines.push(`${names}: unchanged since [lesson ${previous!.number}](${previous!.link}).`, '');
      continue;
    }
    lines.push(`${names}, compared with [lesson ${previous!.number}](${previous!.link}#the-complete-code):`, '');
    lines.push(
      codeGroup(
        files.map((file, i) => (isNew(file) ? `<<< @/../lessons/${lesson.slug}/${file} [${file} (new)]` : tab('diff', file, diffs[i] ?? `(${file} is unchanged since lesson ${previous!.number})`))),
      ),
    );
  }
  return lines.join('\n');
}

/** The fix of the broken copy, from it to the working server, a tab per track. */
export function trackFixSection(lesson: Lesson): string | null {
  const broken = lesson.broken;
  if (!broken) return null;
  const tabs = [
    [broken.file, lesson.server],
    [pythonTwin(broken.file), pythonTwin(lesson.server)],
  ].flatMap(([from = '', to = '']) => {
    if (!existsSync(join(lesson.dir, from)) || !existsSync(join(lesson.dir, to))) return [];
    const patch = fileDiff(`lessons/${lesson.slug}/${from}`, `lessons/${lesson.slug}/${to}`);
    return patch ? [tab('diff', `${from} → ${to}`, patch)] : [];
  });
  return tabs.length ? codeGroup(tabs) : null;
}

/**
 * The transcript of both runs, a code group per terminal: the two tracks play the same scenario
 * and print the same lines (a test checks it), so the terminals pair up one to one.
 */
export function trackTranscriptSection(node: string, python: string): string {
  const terminals = (text: string): { title: string; body: string }[] =>
    [...text.matchAll(/^(Terminal \d+[^\n]*):\n\n```text\n([\s\S]*?)\n```/gm)].map((m) => ({ title: m[1] ?? '', body: m[2] ?? '' }));
  const left = terminals(node);
  const right = terminals(python);
  return left
    .map((terminal, i) => {
      const twin = right[i];
      const tabs = [tab('text', 'Node.js', terminal.body), ...(twin ? [tab('text', 'Python', twin.body)] : [])];
      return `${terminal.title}:\n\n${codeGroup(tabs)}`;
    })
    .join('\n');
}
