/**
 * What the diagram component draws, as plain JSON: the part of the inspector's SessionModel rows
 * and lifelines a page needs. Pure types and one pure function, safe in the browser bundle
 * (type-only imports: nothing of Node's is pulled in).
 */
import type { Lifeline, Row, RowKind } from '../inspector/index.ts';
import type { Direction, StepNumber } from '../protocol/index.ts';

/** One column of the diagram. */
export interface DiagramLifeline {
  id: number;
  name: string;
}

/** One row of the diagram: an arrow between two lifelines, or a note on one (`from === to`). */
export interface DiagramRow {
  id: number;
  /** Milliseconds since the epoch. */
  t: number;
  kind: RowKind;
  dir?: Direction;
  from: number;
  to: number;
  /** What the arrow says: the frame type, `users (cont. 2)`, `FIN`, `connect`… */
  label: string;
  /** The frame's `type`, for a chatlab/1 frame (what `data-type` of the arrow carries). */
  type?: string;
  summary: string;
  step: StepNumber | null;
  /** The frame's bytes as text (what hovering the arrow shows), cut at {@link MAX_DETAIL_CHARS}. */
  detail?: string;
}

/** Longest `detail` sent to a page: a 64 KiB file chunk is not worth drawing whole. */
export const MAX_DETAIL_CHARS = 600;

/** Row kinds drawn as arrows (the others are notes on one lifeline). */
export const ARROW_ROW_KINDS: ReadonlySet<RowKind> = new Set<RowKind>(['frame', 'line', 'chunk', 'bad', 'connect', 'refused', 'fin', 'close', 'reset', 'read', 'lost']);

/** A SessionModel row as the JSON a page gets. */
export function toDiagramRow(row: Row): DiagramRow {
  const out: DiagramRow = { id: row.id, t: row.t, kind: row.kind, from: row.from, to: row.to, label: row.label, summary: row.summary, step: row.step };
  if (row.dir !== undefined) out.dir = row.dir;
  if (row.item?.kind === 'frame') out.type = row.item.frame.type;
  if (row.item) {
    const text = new TextDecoder().decode(row.item.raw).replace(/\r?\n$/, '');
    out.detail = text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}… (${text.length} characters)` : text;
  }
  return out;
}

/** A SessionModel lifeline as the JSON a page gets. */
export function toDiagramLifeline(lifeline: Lifeline): DiagramLifeline {
  return { id: lifeline.id, name: lifeline.name };
}

/** One message of a diagram feed: new rows, and the lifelines when they changed. */
export interface DiagramUpdate {
  lifelines?: DiagramLifeline[];
  rows: DiagramRow[];
}

/** One styled run of a frame's detail (the terminal UI's detail pane, as JSON): text, and how to draw it. */
export interface DiagramDetailSpan {
  text: string;
  style: string;
}

/**
 * What the inspector page gets for a clicked row (GET /row-detail?id=N): the lines the terminal
 * UI's detail pane shows — route and step, which TCP reads carried it, the frame as JSON, its
 * UTF-8 code points and its bytes in hex.
 */
export interface DiagramRowDetail {
  id: number;
  lines: DiagramDetailSpan[][];
}

/** The server's lifeline id (the SessionModel's SERVER_LIFELINE); client lifelines are numbered from 1. */
export const SERVER_LIFELINE_ID = 0;
