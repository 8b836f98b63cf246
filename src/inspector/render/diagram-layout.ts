import { ARROW_KINDS, SERVER_LIFELINE, type Lifeline, type Row } from '../session-model.ts';
import { cellWidth, displayText, padCells, truncateCells } from '../../terminal/index.ts';

/** How a piece of a diagram line is drawn; each view maps these to its own colours. */
export type SpanStyle = 'plain' | 'time' | 'step' | 'lifeline' | 'header' | 'c2s' | 's2c' | 'event' | 'error' | 'note' | 'read' | 'summary' | 'dim';

/** A run of text drawn in one style. Text is already display-safe (see displayText). */
export interface Span {
  text: string;
  style: SpanStyle;
}

/** One line of the diagram as styled runs. */
export type StyledLine = Span[];

/** Where the lifeline columns sit. */
export interface ColumnLayout {
  /** Lifeline ids in column order. */
  ids: number[];
  /** Cells per column; each lifeline is drawn at the middle of its column. */
  columnWidth: number;
}

/** Width of the `+12.345s` time column. */
export const TIME_WIDTH = 9;
/** Width of the `[10]` step badge column (with its trailing space). */
export const STEP_WIDTH = 5;
/** Cells before the first lifeline column. */
export const PREFIX_WIDTH = TIME_WIDTH + 1 + STEP_WIDTH;

/** Formats a time relative to the session start: `+1.234s`. */
export function relativeTime(t: number, startT: number | undefined): string {
  const seconds = Math.max(0, (t - (startT ?? t)) / 1000);
  return `+${seconds.toFixed(3)}s`;
}

/** The `[5]` step badge of a row, or blanks. */
export function stepBadge(step: number | null): string {
  return step === null ? '' : `[${step}]`;
}

/** Cells the lifeline grid of `layout` takes on a line. */
export function gridWidth(layout: ColumnLayout): number {
  return layout.ids.length === 0 ? 0 : center(layout.ids.length - 1, layout) + 2;
}

/** Cells per column that fit `names` (clamped to a readable range). */
export function columnWidthFor(names: string[], min = 10, max = 20): number {
  const widest = Math.max(0, ...names.map((n) => cellWidth(displayText(n))));
  return Math.max(min, Math.min(max, widest + 3));
}

function center(index: number, layout: ColumnLayout): number {
  return index * layout.columnWidth + Math.floor(layout.columnWidth / 2);
}

const DASHED_KINDS = new Set(['connect', 'refused', 'fin', 'close', 'reset']);

/** How a row's arrow is drawn: errors, reads, connection events, or the direction of a frame. */
export function arrowStyle(row: Row): 'error' | 'read' | 'event' | 'c2s' | 's2c' {
  if (row.kind === 'bad' || row.kind === 'refused' || row.kind === 'reset' || row.kind === 'lost') return 'error';
  if (row.kind === 'read') return 'read';
  if (DASHED_KINDS.has(row.kind)) return 'event';
  if (row.kind === 'frame' && row.item?.kind === 'frame' && row.item.frame.type === 'error') return 'error';
  return row.dir === 'c2s' ? 'c2s' : 's2c';
}

/** Is lifeline `l` alive (drawn) at the time of `row`? */
function alive(l: Lifeline | undefined, row: Row): boolean {
  if (!l) return false;
  if (l.id === SERVER_LIFELINE) return true;
  if (row.t < l.openedAt) return false;
  return l.closedAt === undefined || row.t <= l.closedAt;
}

/**
 * Draws the lifeline grid of one row: every live lifeline as `│`, and the row's arrow (solid for
 * frames, dashed for connection events, dotted for reads) with its label inside when it fits.
 * Returns the grid spans and whether the label fitted.
 */
export function drawGrid(row: Row, layout: ColumnLayout, lifelineOf: (id: number) => Lifeline | undefined): { spans: StyledLine; labelShown: boolean } {
  // The grid ends just after the last lifeline, so the summary sits close to the arrows.
  const width = gridWidth(layout);
  const chars: string[] = new Array<string>(width).fill(' ');
  const styles: SpanStyle[] = new Array<SpanStyle>(width).fill('lifeline');
  layout.ids.forEach((id, i) => {
    if (alive(lifelineOf(id), row)) chars[center(i, layout)] = '│';
  });
  const fromIndex = layout.ids.indexOf(row.from);
  const toIndex = layout.ids.indexOf(row.to);
  let labelShown = false;
  if (fromIndex !== -1 && toIndex !== -1 && ARROW_KINDS.has(row.kind) && fromIndex !== toIndex) {
    const style = arrowStyle(row);
    const a = center(fromIndex, layout);
    const b = center(toIndex, layout);
    const rightward = b > a;
    const lo = Math.min(a, b) + 1;
    const hi = Math.max(a, b) - 1;
    const line = row.kind === 'read' ? '┄' : DASHED_KINDS.has(row.kind) ? '╌' : '─';
    for (let x = lo; x <= hi; x++) {
      chars[x] = line;
      styles[x] = style;
    }
    chars[a] = rightward ? '├' : '┤';
    styles[a] = style;
    const head = row.kind === 'refused' || row.kind === 'reset' ? '✕' : row.kind === 'lost' ? '✗' : rightward ? '▶' : '◀';
    chars[rightward ? hi : lo] = head;
    // Label inside the shaft, with a space either side, clear of tail and head.
    const room = hi - lo - 3;
    const label = displayText(row.label);
    if (room >= Math.min(cellWidth(label), 4) + 2) {
      const fitted = truncateCells(label, room - 2);
      const text = ` ${fitted} `;
      const w = cellWidth(text);
      const start = lo + 1 + Math.floor((room - w) / 2) + (rightward ? 0 : 1);
      let x = start;
      for (const char of text) {
        const cw = cellWidth(char);
        if (cw === 0) continue;
        chars[x] = char;
        if (cw === 2) chars[x + 1] = '';
        x += cw;
      }
      labelShown = fitted === label;
    }
  } else if (fromIndex !== -1 && !ARROW_KINDS.has(row.kind)) {
    const x = center(fromIndex, layout);
    chars[x] = row.kind === 'drop' ? '✂' : row.kind === 'gap' ? '⋯' : row.kind === 'silent' ? '…' : '●';
    styles[x] = row.kind === 'drop' || row.kind === 'gap' || row.kind === 'silent' ? 'error' : 'note';
  }
  const spans: StyledLine = [];
  for (let x = 0; x < width; x++) {
    const char = chars[x] as string;
    const style = char === ' ' || char === '│' ? (char === '│' ? 'lifeline' : 'plain') : (styles[x] as SpanStyle);
    const last = spans[spans.length - 1];
    if (last && last.style === style) last.text += char;
    else spans.push({ text: char, style });
  }
  return { spans, labelShown };
}

const ERROR_KINDS = new Set(['bad', 'refused', 'reset', 'drop', 'gap', 'silent', 'lost']);
const PAYLOAD_KINDS = new Set(['frame', 'line', 'chunk']);

/** How a row's summary is drawn: errors, reads, what went on the wire, connection events, notes. */
function summaryStyle(row: Row): SpanStyle {
  if (ERROR_KINDS.has(row.kind)) return 'error';
  if (row.kind === 'read') return 'read';
  if (PAYLOAD_KINDS.has(row.kind)) return 'summary';
  return ARROW_KINDS.has(row.kind) ? 'event' : 'note';
}

/** Options of {@link renderRow}. */
export interface RenderRowOptions {
  startT?: number;
  /** Cells left for the summary after the grid (default: no limit). */
  summaryWidth?: number;
}

/** The whole line of one row: time, step badge, grid, summary. */
export function renderRow(row: Row, layout: ColumnLayout, lifelineOf: (id: number) => Lifeline | undefined, options: RenderRowOptions = {}): StyledLine {
  const { spans, labelShown } = drawGrid(row, layout, lifelineOf);
  let summary = displayText(row.summary);
  if (!labelShown && ARROW_KINDS.has(row.kind)) summary = `${displayText(row.label)}${summary ? ` ${summary}` : ''}`;
  if (options.summaryWidth !== undefined) summary = truncateCells(summary, Math.max(0, options.summaryWidth));
  return [
    { text: padCells(relativeTime(row.t, options.startT), TIME_WIDTH, 'right'), style: 'time' },
    { text: ' ', style: 'plain' },
    { text: padCells(stepBadge(row.step), STEP_WIDTH), style: 'step' },
    ...spans,
    { text: summary ? ` ${summary}` : '', style: summaryStyle(row) },
  ];
}

/** The header line: lifeline names centred over their columns. */
export function renderHeader(layout: ColumnLayout, lifelineOf: (id: number) => Lifeline | undefined): StyledLine {
  let names = '';
  for (const id of layout.ids) {
    const lifeline = lifelineOf(id);
    const name = lifeline ? displayText(lifeline.name) : '?';
    names += padCells(name, layout.columnWidth - 1, 'center') + ' ';
  }
  return [
    { text: padCells('time', TIME_WIDTH, 'right'), style: 'header' },
    { text: ' ', style: 'plain' },
    { text: padCells('step', STEP_WIDTH), style: 'header' },
    { text: names.trimEnd(), style: 'header' },
  ];
}

/** The plain text of a styled line (no colours). */
export function lineText(line: StyledLine): string {
  return line
    .map((s) => s.text)
    .join('')
    .trimEnd();
}
