import { readSection, type SectionName } from './sections.ts';
import type { Track } from './tracks.ts';

/**
 * One README per lesson, for every track. The goal, the concept and the diagram are written once;
 * what is per language has a section per track: the Node one as before (`diff`, `fix`,
 * `transcript`), the Python one beside it (`diff-python`, …), inside a `<details>` block so that
 * GitHub shows it folded under the Node one:
 *
 *     <!-- diff:end -->
 *
 *     <details><summary>The same step in Python …</summary>
 *
 *     <!-- diff-python:start -->
 *     …generated…
 *     <!-- diff-python:end -->
 *
 *     </details>
 *
 * `chatlab lesson show --lang python` shows the Python sections in place of the Node ones; the
 * docs site puts both in code groups, a tab per language.
 */

/** The sections that exist once per track. */
export const TRACK_SECTIONS = ['diff', 'fix', 'transcript'] as const;
export type TrackSection = (typeof TRACK_SECTIONS)[number];

/** The name of a per-language section in a track: `diff` (Node), `diff-python`. */
export function trackSection(name: TrackSection, track: Track): SectionName {
  return track === 'node' ? name : (`${name}-${track}` as SectionName);
}

/** A folded block holding a Python section: its summary, the section's name, its text. */
const PYTHON_BLOCK = /<details>\s*<summary>([^\n]*)<\/summary>\s*<!-- (diff|fix|transcript)-python:start -->([\s\S]*?)<!-- \2-python:end -->\s*<\/details>/g;

/** A summary's HTML as Markdown, seen from the Node track when `node` (the files and commands renamed). */
function summaryText(summary: string, node: boolean): string {
  const text = summary.replace(/<\/?code>/g, '`');
  return node
    ? text
        .replaceAll('Python', 'Node.js')
        .replace(/python3 (\S+)\.py/g, 'node $1.mjs')
        .replace(/\b([\w-]+)\.py\b/g, '$1.mjs')
    : text;
}

/**
 * The README for a terminal (`chatlab lesson show`), which has no tabs: the lesson's own track in
 * place, the other track's text after it, under the block's summary as a bold line. For Python,
 * each Node section's text and its Python twin change places.
 */
export function readmeForTrack(markdown: string, track: Track): string {
  return markdown
    .replace(PYTHON_BLOCK, (_block, summary: string, name: TrackSection, python: string) => {
      if (track === 'node') return `**${summaryText(summary, false)}**\n\n${python.trim()}`;
      return `**${summaryText(summary, true)}**\n\n${readSection(markdown, name) ?? ''}`;
    })
    .replace(/<!-- (diff|fix|transcript):start -->[\s\S]*?<!-- \1:end -->/g, (whole, name: TrackSection) => {
      if (track === 'node') return whole;
      return `<!-- ${name}:start -->\n${readSection(markdown, trackSection(name, track)) ?? ''}\n<!-- ${name}:end -->`;
    });
}
