import type { Lesson } from './catalogue.ts';
import { renderDiffSection, renderFixSection } from './diff.ts';
import { hasSection, readSection, writeSection, type SectionName } from './sections.ts';
import { inTrack, type Track } from './tracks.ts';

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

/** A `<details>` block that holds another track's section, with its markers. */
const OTHER_TRACK_BLOCK = /\n*<details>\s*<summary>[^\n]*<\/summary>\s*<!-- (diff|fix|transcript)-python:start -->[\s\S]*?<!-- \1-python:end -->\s*<\/details>\n*/g;

/**
 * The README as one track sees it: for Python, each Node section's text is replaced by its
 * Python twin; either way, the folded blocks of the other track are gone.
 */
export function readmeForTrack(markdown: string, track: Track): string {
  let out = markdown;
  if (track !== 'node') {
    for (const name of TRACK_SECTIONS) {
      const own = readSection(markdown, trackSection(name, track));
      if (own !== null && hasSection(out, name)) out = writeSection(out, name, own);
    }
  }
  return out.replace(OTHER_TRACK_BLOCK, '\n\n');
}

/**
 * Rewrites the Python sections that come from the files alone: the diff from the previous
 * Python lesson and, where the lesson keeps a broken copy, the fix. Pure, like
 * `withFileSections` for the Node ones, so a test can compare with the committed README.
 */
export function withTrackFileSections(markdown: string, lesson: Lesson, track: Track): string {
  const view = inTrack(lesson, track);
  if (!view || track === 'node' || !hasSection(markdown, trackSection('diff', track))) return markdown;
  let out = writeSection(markdown, trackSection('diff', track), renderDiffSection(view));
  const fix = renderFixSection(view);
  if (fix !== null && hasSection(out, trackSection('fix', track))) out = writeSection(out, trackSection('fix', track), fix);
  return out;
}

