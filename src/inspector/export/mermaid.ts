import { SERVER_LIFELINE, type Row, type SessionModel } from '../session-model.ts';
import { displayText, truncateCells } from '../../terminal/index.ts';

/** Options of {@link exportMermaid}. */
export interface MermaidExportOptions {
  /** Wrap in a ```mermaid fence (for Markdown pages). */
  fenced?: boolean;
  /** Longest message text, in cells (default 80). */
  maxText?: number;
}

/**
 * Makes text safe inside a Mermaid message or note: Mermaid reads `;`, `#` and `%%` as syntax
 * and `<`/`>` as HTML, so they become its entity codes; line breaks become spaces.
 */
export function escapeMermaid(text: string): string {
  // One pass, so the `;` of an inserted entity is not escaped again.
  return text.replace(/[\r\n]+|[#;<>"%]/g, (char) => MERMAID_ENTITIES[char] ?? ' ');
}

// `%` too: `%%{init: …}%%` anywhere in the text would be read as a directive.
const MERMAID_ENTITIES: Record<string, string> = { '#': '#35;', ';': '#59;', '<': '#lt;', '>': '#gt;', '"': '#quot;', '%': '#37;' };

function participantId(id: number): string {
  return id === SERVER_LIFELINE ? 'S' : `C${id}`;
}

function arrowFor(row: Row): string {
  switch (row.kind) {
    case 'connect':
    case 'fin':
    case 'close':
      return '-->>';
    case 'reset':
    case 'refused':
      return '--x';
    case 'read':
      return '--)';
    case 'bad':
    case 'lost':
      return '-x';
    default:
      return '->>';
  }
}

/**
 * The session as a Mermaid `sequenceDiagram` (renders on GitHub and in VitePress with Mermaid
 * support): one participant per lifeline under its final name, one message per row prefixed with
 * its step badge, notes for the listening server, renames and injected faults.
 */
export function exportMermaid(model: SessionModel, options: MermaidExportOptions = {}): string {
  const maxText = options.maxText ?? 80;
  const lines: string[] = ['sequenceDiagram'];
  for (const lifeline of model.lifelines) {
    const name = escapeMermaid(lifeline.name);
    const address = lifeline.address && lifeline.address !== lifeline.name ? `<br/>${escapeMermaid(lifeline.address)}` : '';
    lines.push(`    participant ${participantId(lifeline.id)} as ${name}${address}`);
  }
  for (const row of model.rows) {
    const badge = row.step === null ? '' : `[${row.step}] `;
    const summary = truncateCells(displayText(row.summary), maxText);
    const from = participantId(row.from);
    const to = participantId(row.to);
    if (row.from === row.to) {
      lines.push(`    Note over ${from}: ${escapeMermaid(`${badge}${summary}`)}`);
      continue;
    }
    const text = `${badge}${displayText(row.label)}${summary ? ` · ${summary}` : ''}`;
    lines.push(`    ${from}${arrowFor(row)}${to}: ${escapeMermaid(text)}`);
  }
  const seen = model.steps.filter((s) => s.seen).map((s) => s.step);
  if (model.lifelines.length > 1) {
    const last = participantId(model.lifelines[model.lifelines.length - 1]?.id ?? SERVER_LIFELINE);
    lines.push(
      `    Note over S,${last}: 10-step checklist: ${seen.length}/10 seen${
        seen.length === 10
          ? ' (all green)'
          : ` (missing ${model.steps
              .filter((s) => !s.seen)
              .map((s) => s.step)
              .join(', ')})`
      }`,
    );
  }
  const body = lines.join('\n') + '\n';
  return options.fenced ? '```mermaid\n' + body + '```\n' : body;
}
