import { hasSection, inTrack, trackSection, writeSection, type Lesson, type Track } from '../runtime/index.ts';
import { renderDiffSection, renderFixSection } from './diff-sections.ts';

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
