/**
 * The generated parts of a lesson README live between marker comments, so the text around them
 * is written by hand and the parts that must match the code (diagram, diff, transcript) are
 * always regenerated from the real files and a real run:
 *
 *     <!-- diff:start -->
 *     …generated…
 *     <!-- diff:end -->
 */

/** The generated sections of a lesson README (`diagram-b`: a cluster lesson's second node). */
export type SectionName = 'diagram' | 'diagram-b' | 'diff' | 'fix' | 'transcript' | 'index' | 'diff-python' | 'fix-python' | 'transcript-python';

function markers(name: SectionName): { start: string; end: string } {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

function locate(markdown: string, name: SectionName): { from: number; to: number } | null {
  const { start, end } = markers(name);
  const from = markdown.indexOf(start);
  if (from === -1) return null;
  const to = markdown.indexOf(end, from + start.length);
  if (to === -1) throw new Error(`"${start}" has no matching "${end}"`);
  return { from: from + start.length, to };
}

/** Whether the README has this section's markers. */
export function hasSection(markdown: string, name: SectionName): boolean {
  return locate(markdown, name) !== null;
}

/** The text between a section's markers (trimmed), or `null` when the markers are missing. */
export function readSection(markdown: string, name: SectionName): string | null {
  const at = locate(markdown, name);
  return at ? markdown.slice(at.from, at.to).trim() : null;
}

/** Replaces the text between a section's markers. Throws when the markers are missing. */
export function writeSection(markdown: string, name: SectionName, body: string): string {
  const at = locate(markdown, name);
  if (!at) throw new Error(`the README has no "${markers(name).start}" marker`);
  return `${markdown.slice(0, at.from)}\n${body.trim()}\n${markdown.slice(at.to)}`;
}
