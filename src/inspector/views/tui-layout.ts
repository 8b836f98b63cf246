/**
 * Where each box of the inspector's terminal UI goes for a terminal size: a pure function, so the
 * layout can be checked at any size without a terminal, and the UI only applies it (at start and
 * on every resize).
 *
 * ```text
 * ┌ title bar (1 row) ─────────────────────────────────────┐
 * │ sequence diagram                        │ 10 steps     │
 * │                                         │ throughput   │
 * │                                         │ counters     │
 * │ frame detail (full width)                              │
 * └ key bar (1 row) ───────────────────────────────────────┘
 * ```
 *
 * The side column only appears when the diagram keeps {@link DIAGRAM_MIN_WITH_SIDE} columns
 * beside it; below that the diagram takes the whole width (the title bar then counts the steps).
 * Side boxes that do not fit whole are left out, the least useful first; boxes never overlap.
 */

import { cellWidth, truncateCells } from '../../terminal/index.ts';

/** A box on the screen, in cells, from the top-left corner (0, 0). */
export interface Rect {
  top: number;
  left: number;
  width: number;
  height: number;
}

/** The boxes of the UI; a side box or the detail pane is absent when it does not fit. */
export interface TuiLayout {
  titleBar: Rect;
  keyBar: Rect;
  diagram: Rect;
  detail?: Rect;
  checklist?: Rect;
  throughput?: Rect;
  counters?: Rect;
}

/** Width of the side column (checklist, throughput, counters). */
export const SIDE_WIDTH = 30;
/**
 * Columns the diagram keeps when the side column is shown: room for the time and step columns,
 * four lifelines and a summary of about 25 characters.
 */
export const DIAGRAM_MIN_WITH_SIDE = 70;

/** The smallest size each box is drawn at (borders included); below it the box is left out. */
export const MIN_SIZE = {
  diagram: { width: 20, height: 5 },
  detail: { width: 20, height: 5 },
  // Ten steps plus the two borders: a cut checklist would hide steps.
  checklist: { width: SIDE_WIDTH, height: 12 },
  throughput: { width: SIDE_WIDTH, height: 4 },
  counters: { width: SIDE_WIDTH, height: 4 },
} as const;

/** Share of the body the detail pane gets, before the minimums. */
const DETAIL_SHARE = 0.36;
/** Throughput box height when there is room: the sparkline and its label line. */
const THROUGHPUT_HEIGHT = 5;

/**
 * Lays out the UI for a `cols` × `rows` terminal. Every box lies inside the screen, no two
 * overlap, and each present box is at least its {@link MIN_SIZE} (the diagram, always present,
 * takes what is left on screens smaller than that).
 */
export function tuiLayout(cols: number, rows: number): TuiLayout {
  const width = Math.max(1, Math.floor(cols));
  const height = Math.max(3, Math.floor(rows));
  const titleBar: Rect = { top: 0, left: 0, width, height: 1 };
  const keyBar: Rect = { top: height - 1, left: 0, width, height: 1 };
  const bodyTop = 1;
  const bodyHeight = height - 2;

  // The detail pane takes its share of the body when the diagram keeps its minimum above it.
  let detailHeight = Math.max(MIN_SIZE.detail.height, Math.floor(bodyHeight * DETAIL_SHARE));
  detailHeight = Math.min(detailHeight, bodyHeight - MIN_SIZE.diagram.height);
  const hasDetail = detailHeight >= MIN_SIZE.detail.height && width >= MIN_SIZE.detail.width;
  if (!hasDetail) detailHeight = 0;
  const upperHeight = bodyHeight - detailHeight;

  const layout: TuiLayout = { titleBar, keyBar, diagram: { top: bodyTop, left: 0, width, height: Math.max(1, upperHeight) } };
  if (hasDetail) layout.detail = { top: bodyTop + upperHeight, left: 0, width, height: detailHeight };

  const sideFits = width - SIDE_WIDTH >= DIAGRAM_MIN_WITH_SIDE && upperHeight >= MIN_SIZE.checklist.height;
  if (!sideFits) return layout;
  const sideLeft = width - SIDE_WIDTH;
  layout.diagram = { ...layout.diagram, width: sideLeft };
  let top = bodyTop;
  let rowsLeft = upperHeight;
  layout.checklist = { top, left: sideLeft, width: SIDE_WIDTH, height: MIN_SIZE.checklist.height };
  top += MIN_SIZE.checklist.height;
  rowsLeft -= MIN_SIZE.checklist.height;
  if (rowsLeft >= MIN_SIZE.throughput.height) {
    const throughputHeight = Math.min(THROUGHPUT_HEIGHT, rowsLeft);
    layout.throughput = { top, left: sideLeft, width: SIDE_WIDTH, height: throughputHeight };
    top += throughputHeight;
    rowsLeft -= throughputHeight;
  }
  if (rowsLeft >= MIN_SIZE.counters.height) layout.counters = { top, left: sideLeft, width: SIDE_WIDTH, height: rowsLeft };
  return layout;
}

/** The boxes of `layout` that are shown, by name. */
export function visibleBoxes(layout: TuiLayout): Array<[keyof TuiLayout, Rect]> {
  return (Object.entries(layout) as Array<[keyof TuiLayout, Rect | undefined]>).filter((entry): entry is [keyof TuiLayout, Rect] => entry[1] !== undefined);
}

/** Whether two boxes share a cell. */
export function overlaps(a: Rect, b: Rect): boolean {
  return a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;
}

/** One key of the key bar: the key, what it does, and how much it matters (higher stays longer). */
export interface KeyBarEntry {
  keys: string;
  what: string;
  priority: number;
}

/**
 * The key bar for a screen `width` cells wide: every entry when they fit, else the least
 * important ones left out (the order kept), so help and quit are always shown.
 */
export function keyBarText(entries: readonly KeyBarEntry[], width: number): string {
  const text = (shown: readonly KeyBarEntry[]): string => ' ' + shown.map((e) => `${e.keys} ${e.what}`).join('  ');
  let shown = [...entries];
  const dropOrder = [...entries].sort((a, b) => a.priority - b.priority);
  while (cellWidth(text(shown)) > width && dropOrder.length > 2) {
    const least = dropOrder.shift() as KeyBarEntry;
    shown = shown.filter((e) => e !== least);
  }
  return text(shown);
}

/** The shortest cut title worth showing; below it the title is left out. */
const MIN_TITLE_CELLS = 12;

/**
 * The title bar: ` title  [flags]  status`. When that is too wide, the title gives way first
 * (cut, then left out), so the flags and the status — what is happening now — stay readable.
 */
export function titleBarText(title: string, flags: string, status: string, width: number): string {
  const tail = `  [${flags}]${status ? `  ${status}` : ''}`;
  const room = width - 1 - cellWidth(tail);
  if (room >= cellWidth(title)) return ` ${title}${tail}`;
  if (room >= MIN_TITLE_CELLS) return ` ${truncateCells(title, room)}${tail}`;
  return ` [${flags}]${status ? `  ${status}` : ''}`;
}
