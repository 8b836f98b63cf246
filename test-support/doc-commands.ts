/**
 * The shell commands a docs page asks a reader to type, read out of its Markdown deterministically
 * (test/docs-commands.test.ts runs them):
 *
 * - a ```` ```sh ```` fence on the line right after `<!-- docs-commands: run -->` is one block; each
 *   line is one terminal (a `# comment` line, or the ` # …` end of a line, is not typed). A line
 *   starting with `{` is typed into the command above it (a frame typed into `nc`);
 * - a lesson README's `## Run it` section is one block: each numbered item is one terminal, and
 *   its command is the item's first code span.
 */

/** The marker that makes the next ```sh fence a block of commands the test runs. */
export const RUN_MARKER = '<!-- docs-commands: run -->';

/** A line of a block: a command for a new terminal, or text typed into the previous one. */
export type DocLine = { kind: 'command'; text: string } | { kind: 'type'; text: string };

/** One block of commands, and where it is (for failure messages). */
export interface DocBlock {
  where: string;
  lines: DocLine[];
}

function toLine(raw: string): DocLine | undefined {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  if (line.startsWith('{')) return { kind: 'type', text: line };
  return { kind: 'command', text: line.replace(/\s+#\s.*$/, '') };
}

/** The marked ```sh blocks of a page, in order. */
export function markedBlocks(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== RUN_MARKER) continue;
    if (lines[i + 1]?.trim() !== '```sh') throw new Error(`${file}:${i + 1}: ${RUN_MARKER} must be followed by a \`\`\`sh fence`);
    const end = lines.indexOf('```', i + 2);
    if (end === -1) throw new Error(`${file}:${i + 2}: the \`\`\`sh fence is not closed`);
    const body = lines
      .slice(i + 2, end)
      .map(toLine)
      .filter((line): line is DocLine => line !== undefined);
    blocks.push({ where: `${file}:${i + 3}`, lines: body });
    i = end;
  }
  return blocks;
}

/** A lesson README's "Run it": one terminal per numbered item, its first code span. */
export function runItBlock(markdown: string, file: string): DocBlock {
  const section = /^## Run it\n([\s\S]*?)(?=^## )/m.exec(markdown);
  if (!section) throw new Error(`${file} has no "## Run it" section`);
  // The numbered items, each up to the next one (or the first paragraph after the list).
  const items = (section[1] as string)
    .split(/^(?=\d+\. )/m)
    .filter((item) => /^\d+\. /.test(item))
    .map((item) => item.split('\n\n')[0] as string);
  const commands = items.map((item) => ({ kind: 'command' as const, text: /`([^`]+)`/.exec(item)?.[1] ?? item }));
  if (commands.length === 0) throw new Error(`${file}: "## Run it" has no numbered commands`);
  return { where: `${file} (Run it)`, lines: commands };
}
