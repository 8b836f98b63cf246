import { diagramTextLines, SERVER_LIFELINE, summarizeFrame, type Lifeline, type Row } from '../../inspector/index.ts';
import { stepOf, type Direction, type RawFrame, type StepNumber } from '../../protocol/index.ts';
import type { TranscriptEventJson } from '../transcript.ts';

/** Who is who in the diagram, and what to draw. */
export interface DiagramOptions {
  /** Which side the verifier plays: `server` mode drives clients against a server, `client` mode plays the server. */
  mode: 'server' | 'client';
  /** Sequence number of the event to mark with ✗. */
  culprit?: number;
  /** Show at most this many of the last events. */
  max?: number;
  /** Also draw each raw TCP read (off by default: frames say which reads held them). */
  showReads?: boolean;
  /** Earlier events the transcript no longer holds (see Transcript.omitted), counted in the "not shown" line. */
  omitted?: { events: number; reads: number };
  /** ANSI colours, as the inspector draws them (default off). */
  color?: boolean;
  /** Longest summary, in cells (default 72). */
  summaryWidth?: number;
}

/** The lifelines and rows of the inspector's diagram model, made from a verifier transcript. */
export interface TranscriptDiagram {
  lifelines: Lifeline[];
  rows: Row[];
  /** Row id of each transcript event that became a row, by the event's `seq`. */
  rowOfSeq: Map<number, number>;
}

/** The requests of one connection so far, to give an `ok`/`error` the step of what it answers. */
interface RequestLog {
  byId: Map<string, RawFrame>;
  last?: RawFrame;
}

/**
 * Turns the verifier's transcript into the inspector's diagram model: the server is lifeline 0
 * (the program under test in server mode, the verifier in client mode), each connection the
 * verifier saw a client lifeline named after it (`alice`, `bob`, `client`), and each event a
 * {@link Row} as the inspector's SessionModel would have made it from the same bytes: frames
 * labelled with their type and summarized by the inspector's summarizer, with their step.
 */
export function transcriptDiagram(events: readonly TranscriptEventJson[], options: Pick<DiagramOptions, 'mode' | 'showReads'>): TranscriptDiagram {
  const server = options.mode === 'server' ? 'server' : 'verifier (server)';
  const lifelines: Lifeline[] = [{ id: SERVER_LIFELINE, name: server, address: '', openedAt: 0 }];
  const connIds = new Map<string, number>();
  const requests = new Map<number, RequestLog>();
  const rows: Row[] = [];
  const rowOfSeq = new Map<number, number>();
  const closedSides = new Map<number, Set<string>>();
  // In server mode the verifier is the client side: what it sends goes client → server.
  const sent: Direction = options.mode === 'server' ? 'c2s' : 's2c';
  const received: Direction = sent === 'c2s' ? 's2c' : 'c2s';

  const lifelineOf = (name: string, t: number): number => {
    let id = connIds.get(name);
    if (id === undefined) {
      id = connIds.size + 1;
      connIds.set(name, id);
      lifelines.push({ id, name, address: '', openedAt: t });
      requests.set(id, { byId: new Map() });
    }
    return id;
  };

  for (const event of events) {
    if (event.kind === 'read' && !options.showReads) continue;
    const t = event.atMs;
    const conn = lifelineOf(event.conn, t);
    const arrow = (dir: Direction) => (dir === 'c2s' ? { conn, dir, from: conn, to: SERVER_LIFELINE } : { conn, dir, from: SERVER_LIFELINE, to: conn });
    let row: Omit<Row, 'id'>;
    switch (event.kind) {
      case 'connect':
        row = { t, kind: 'connect', ...arrow('c2s'), label: 'connect', summary: 'TCP connection accepted', step: 2 };
        break;
      case 'send':
      case 'recv': {
        const dir = event.kind === 'send' ? sent : received;
        const how =
          event.kind === 'send' ? (event.writes > 1 ? ` (in ${event.writes} writes)` : '') : event.reads.first !== event.reads.last ? ` (reads ${event.reads.first}–${event.reads.last})` : '';
        if (event.frame) {
          row = { t, kind: 'frame', ...arrow(dir), label: event.frame.type, summary: summarizeFrame(event.frame) + how, step: frameStep(requests.get(conn) as RequestLog, event.frame, dir) };
        } else if (event.kind === 'send') {
          const what = event.frames > 1 ? `${event.frames} frames in one write` : 'bytes';
          row = { t, kind: 'chunk', ...arrow(dir), label: what, summary: event.raw + how, step: null };
        } else {
          row = { t, kind: 'bad', ...arrow(dir), label: 'not a frame', summary: `${event.problem ? `${event.problem}: ` : ''}${event.raw}${how}`, step: null };
        }
        break;
      }
      case 'read':
        row = { t, kind: 'read', ...arrow(received), label: `read #${event.index}`, summary: event.raw, step: null };
        break;
      case 'close': {
        const dir = event.by === 'verifier' ? sent : received;
        const who = event.by === 'verifier' ? 'verifier' : options.mode;
        const fin = /\(FIN\)$/.test(event.detail);
        row = { t, kind: fin ? 'fin' : 'close', ...arrow(dir), label: fin ? 'FIN' : 'close', summary: `${who} ${event.detail}`, step: 10 };
        // The lifeline ends once both sides closed (or one dropped the connection), as in the inspector.
        const sides = closedSides.get(conn) ?? new Set<string>();
        sides.add(fin ? event.by : 'both');
        closedSides.set(conn, sides);
        const lifeline = lifelines.find((l) => l.id === conn);
        if (lifeline && (sides.has('both') || sides.size === 2)) lifeline.closedAt ??= t;
        break;
      }
      case 'stdin':
      case 'stdout':
      case 'note':
        row = { t, kind: 'note', conn, from: conn, to: conn, label: event.kind, summary: event.kind === 'note' ? event.text : `[${event.kind}] ${event.text}`, step: null };
        break;
    }
    const full: Row = { id: rows.length + 1, ...row };
    rows.push(full);
    rowOfSeq.set(event.seq, full.id);
  }
  return { lifelines, rows, rowOfSeq };
}

/** The step of a frame; an `ok` or `error` takes the step of the request it answers (by id, else the last one). */
function frameStep(log: RequestLog, frame: RawFrame, dir: Direction): StepNumber | null {
  const id = frame.id === undefined ? undefined : JSON.stringify(frame.id);
  if (dir === 'c2s') {
    if (id !== undefined) log.byId.set(id, frame);
    log.last = frame;
    return stepOf(frame, dir);
  }
  if (frame.type !== 'ok' && frame.type !== 'error') return stepOf(frame, dir);
  const request = (id !== undefined ? log.byId.get(id) : undefined) ?? (frame.id === undefined ? log.last : undefined);
  return stepOf(frame, dir, request);
}

/** Rows kept around a culprit that is older than the last events shown. */
const AROUND_CULPRIT = 3;

/**
 * Which events to draw: the last `max`; when the culprit is older than those, the few around it,
 * then the most recent ones, so the frame that went wrong is always in view. `gap` counts the
 * events left out between the two parts.
 */
function pickRows(drawn: readonly TranscriptEventJson[], max: number, culprit: number | undefined): { head: TranscriptEventJson[]; gap: number; tail: TranscriptEventJson[] } {
  const at = culprit === undefined ? -1 : drawn.findIndex((e) => e.seq === culprit);
  if (at === -1 || at >= drawn.length - max) return { head: drawn.slice(-max), gap: 0, tail: [] };
  const headEnd = at + AROUND_CULPRIT + 1;
  const head = drawn.slice(Math.max(0, at - AROUND_CULPRIT), headEnd);
  const tailStart = Math.max(headEnd, drawn.length - Math.max(0, max - head.length));
  return { head, gap: tailStart - headEnd, tail: drawn.slice(tailStart) };
}

/**
 * Draws the transcript as the inspector draws a session: a column per connection and one for the
 * server, one arrow per frame with its type on it and its summary beside it, the step of each
 * row, and `✗` at the end of the row at fault. At most `max` events (default 30) are drawn,
 * the culprit always among them, with lines that count the others.
 */
export function renderDiagram(events: readonly TranscriptEventJson[], options: DiagramOptions): string[] {
  const max = options.max ?? 30;
  const drawn = options.showReads ? events : events.filter((e) => e.kind !== 'read');
  const { head, gap, tail } = pickRows(drawn, max, options.culprit);
  const shown = [...head, ...tail];
  // Time zero is the first event kept, not the first one shown, so the times match the run.
  const { lifelines, rows, rowOfSeq } = transcriptDiagram(shown, options);
  const marks = new Map<number, string>();
  const culpritRow = options.culprit === undefined ? undefined : rowOfSeq.get(options.culprit);
  if (culpritRow !== undefined) marks.set(culpritRow, '✗');
  const lines = diagramTextLines(rows, lifelines, { color: options.color ?? false, startT: 0, summaryWidth: options.summaryWidth ?? 72, marks });
  if (gap > 0 && tail[0]) {
    const tailRow = rows.findIndex((row) => row.id === rowOfSeq.get(tail[0]!.seq));
    if (tailRow !== -1) lines.splice(1 + tailRow, 0, `… ${gap.toLocaleString('en-US')} events not shown`);
  }
  const dropped = options.omitted ? options.omitted.events - (options.showReads ? 0 : options.omitted.reads) : 0;
  const hidden = drawn.length - shown.length - gap + dropped;
  if (hidden > 0) lines.splice(1, 0, `… ${hidden.toLocaleString('en-US')} earlier events not shown`);
  return lines;
}
