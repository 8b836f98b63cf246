import type { Lifeline, Row } from '../session-model.ts';
import { columnWidthFor, renderHeader, renderRow, type ColumnLayout, type StyledLine } from './diagram-layout.ts';
import { toAnsi } from './styles.ts';

/** Options of {@link diagramTextLines}. */
export interface DiagramTextOptions {
  /** ANSI colours (default off). */
  color?: boolean;
  /** Longest summary, in cells (default 120). */
  summaryWidth?: number;
  /** Time zero of the `+1.234s` column (default: the first row's time). */
  startT?: number;
  /** A mark drawn at the end of some rows, by row id (the verifier's `✗` on the frame at fault). */
  marks?: ReadonlyMap<number, string>;
}

/**
 * Rows as a text sequence diagram: a header of lifeline names, then one line per row, each
 * lifeline in its own column. The one drawing of the plain view, the text export and the
 * verifier's failure report, so a learner sees the same picture in all three.
 */
export function diagramTextLines(rows: readonly Row[], lifelines: readonly Lifeline[], options: DiagramTextOptions = {}): string[] {
  const byId = new Map(lifelines.map((l) => [l.id, l]));
  const lookup = (id: number): Lifeline | undefined => byId.get(id);
  const layout: ColumnLayout = { ids: lifelines.map((l) => l.id), columnWidth: columnWidthFor(lifelines.map((l) => l.name)) };
  const color = options.color ?? false;
  const startT = options.startT ?? rows[0]?.t;
  const lines = [toAnsi(renderHeader(layout, lookup), color)];
  for (const row of rows) {
    const line: StyledLine = renderRow(row, layout, lookup, { startT, summaryWidth: options.summaryWidth ?? 120 });
    const mark = options.marks?.get(row.id);
    if (mark !== undefined) line.push({ text: ` ${mark}`, style: 'error' });
    lines.push(toAnsi(line, color));
  }
  return lines;
}
