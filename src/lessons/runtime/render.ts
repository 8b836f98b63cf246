import { Marked, type Tokens } from 'marked';
import { markedTerminal } from 'marked-terminal';
import type { Lesson } from './catalogue.ts';
import { colourDiff } from './diff.ts';
import { lessonDiagramText } from './trace.ts';
import { readReadme } from './catalogue.ts';
import { readSection, writeSection } from './sections.ts';
import { paint, type Style } from '../../terminal/index.ts';
import { readmeForTrack } from './track-readme.ts';
import { trackOf } from './tracks.ts';

/** Options of {@link renderReadme}. */
export interface RenderOptions {
  /** ANSI colours and styles. */
  color: boolean;
  /** Width to wrap prose at (default 80). */
  width?: number;
}

/**
 * A lesson README for the terminal (`chatlab lesson show`): Markdown rendered by marked-terminal,
 * diffs coloured, and the Mermaid diagram, which a terminal cannot draw, replaced by the same
 * recorded run drawn by the inspector's text exporter.
 */
export async function renderReadme(lesson: Lesson, options: RenderOptions): Promise<string> {
  // The lesson's own track in place; the other track's code and transcript after it.
  let markdown = readmeForTrack(readReadme(lesson), trackOf(lesson));
  if (readSection(markdown, 'diagram') !== null) {
    const diagram = await lessonDiagramText(lesson);
    markdown = writeSection(markdown, 'diagram', diagram ? `\`\`\`text\n${diagram}\n\`\`\`` : '_(no recorded run yet: `npm run lessons:diagrams`)_');
  }
  // Marker comments and HTML tags mean nothing in a terminal.
  markdown = markdown.replace(/<!--[\s\S]*?-->\n?/g, '').replace(/<\/?sub>/g, '');
  return renderMarkdown(markdown, options);
}

/** marked-terminal's style options, drawn with node:util's styleText (or left plain). */
function styles(color: boolean): Record<string, (text: string) => string> {
  const style = (format: Style) => (text: string) => paint(format, text, color);
  const plain = (text: string): string => text;
  return {
    code: style('yellow'),
    blockquote: style(['gray', 'italic']),
    html: style('gray'),
    heading: style(['green', 'bold']),
    firstHeading: style(['magenta', 'underline', 'bold']),
    hr: plain,
    listitem: plain,
    table: plain,
    paragraph: plain,
    strong: style('bold'),
    em: style('italic'),
    codespan: style('yellow'),
    del: style(['dim', 'strikethrough']),
    link: style('blue'),
    href: style(['blue', 'underline']),
  };
}

/** Renders Markdown for the terminal. */
export function renderMarkdown(markdown: string, options: RenderOptions): string {
  const marked = new Marked();
  const terminal = markedTerminal({
    ...styles(options.color),
    width: options.width ?? 80,
    reflowText: true,
    tab: 2,
    // cli-table3 colours borders on its own: keep them plain unless colours are on.
    tableOptions: options.color ? {} : { style: { head: [], border: [] } },
  });
  marked.use(terminal as Parameters<Marked['use']>[0]);
  marked.use({
    renderer: {
      code(token: Tokens.Code): string | false {
        if (token.lang === 'diff') return `${indent(options.color ? colourDiff(token.text) : token.text)}\n\n`;
        if (token.lang === 'text') return `${indent(token.text)}\n\n`;
        return false;
      },
      // marked-terminal prints the text of list items raw; parse their inline Markdown
      // (`code`, **bold**, links) like any paragraph's.
      text(token: Tokens.Text | Tokens.Escape): string | false {
        return 'tokens' in token && token.tokens ? this.parser.parseInline(token.tokens) : false;
      },
    },
  });
  return (marked.parse(markdown) as string).trimEnd() + '\n';
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
