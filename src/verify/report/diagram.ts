import stringWidth from 'string-width';
import type { RawFrame } from '../../protocol/index.ts';
import { showBytes } from '../bytes.ts';
import type { TranscriptEventJson } from '../transcript.ts';

/** Lanes of the diagram: the verifier on the left, the program under test on the right. */
export interface DiagramOptions {
  /** Name of the right lane: 'server' (server mode) or 'client' (client mode). */
  peer: string;
  /** Name of the left lane. */
  self: string;
  /** Sequence number of the event to mark with ✗. */
  culprit?: number;
  /** Show at most this many of the last events. */
  max?: number;
  /** Width of the arrow area. */
  width?: number;
  /** Also draw each raw TCP read (off by default: frames say which reads held them). */
  showReads?: boolean;
  /** Earlier events the transcript no longer holds (see Transcript.omitted), counted in the "not shown" line. */
  omitted?: { events: number; reads: number };
}

function clip(text: string, width: number): string {
  if (stringWidth(text) <= width) return text;
  let out = '';
  for (const char of text) {
    if (stringWidth(out + char) > width - 1) break;
    out += char;
  }
  return `${out}…`;
}

function quote(value: unknown, max = 24): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  // showBytes names control and invisible characters, so a mangled text shows as mangled.
  return `"${clip(showBytes(text), max)}"`;
}

/** ` to="bob"` / ` room="rust"`: the fields that decide who receives a say or a message, when present. */
function routing(frame: RawFrame): string {
  return `${frame.to !== undefined ? ` to=${quote(frame.to, 16)}` : ''}${frame.room !== undefined ? ` room=${quote(frame.room, 16)}` : ''}`;
}

/** A short label for one frame: its type and the fields that matter. */
export function frameSummary(frame: RawFrame): string {
  const id = frame.id !== undefined ? ` id=${JSON.stringify(frame.id)}` : '';
  switch (frame.type) {
    case 'hello':
      return `hello protocol=${quote(frame.protocol)}`;
    case 'login':
    case 'register':
      return `${frame.type} user=${quote(frame.user, 16)} password=${quote(frame.password, 16)}${id}`;
    case 'welcome':
      return `welcome user=${quote(frame.user, 16)} users=${clip(JSON.stringify(frame.users) ?? '', 30)}${id}`;
    case 'presence':
      return `presence ${quote(frame.user, 16)} ${String(frame.status)}${frame.reason ? ` (${String(frame.reason)})` : ''}`;
    case 'say':
      return `say ${quote(frame.text)}${routing(frame)}${frame.from !== undefined ? ` from=${quote(frame.from, 16)}` : ''}${id}`;
    case 'message':
      return `message from=${quote(frame.from, 16)}${routing(frame)} ${quote(frame.text)}`;
    case 'error':
      return `error ${String(frame.code)} ${quote(frame.message, 30)}${id}`;
    default: {
      const { type, ...rest } = frame;
      const fields = JSON.stringify(rest);
      return fields === '{}' ? type : `${type} ${clip(fields, 40)}`;
    }
  }
}

/** The label of an event: a string, or [text, suffix] where only the text may be clipped. */
function label(event: TranscriptEventJson, options: DiagramOptions): string | [string, string] {
  switch (event.kind) {
    case 'send': {
      const what = event.frame ? frameSummary(event.frame) : event.frames > 1 ? `${event.frames} frames in one write: ${event.raw}` : `bytes ${event.raw}`;
      return event.writes > 1 ? [what, ` (in ${event.writes} writes)`] : what;
    }
    case 'recv': {
      const what = event.frame ? frameSummary(event.frame) : `not a frame: ${event.raw}`;
      return event.reads.first !== event.reads.last ? [what, ` (reads ${event.reads.first}–${event.reads.last})`] : what;
    }
    case 'close':
      return `╳ ${event.by === 'peer' ? options.peer : 'verifier'} ${event.detail}`;
    case 'connect':
      return 'connects';
    case 'read':
      return `read #${event.index}: ${event.raw}`;
    default:
      return '';
  }
}

function time(atMs: number): string {
  return `+${(atMs / 1000).toFixed(3)}s`;
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
 * Draws the transcript as a small text sequence diagram: one row per event, the connection
 * name on the left, an arrow from the verifier to the peer (→) or back (←), and a short
 * summary of the frame on it. At most `max` events are drawn, the culprit always among them.
 */
export function renderDiagram(events: readonly TranscriptEventJson[], options: DiagramOptions): string[] {
  const width = options.width ?? 58;
  const max = options.max ?? 30;
  const drawn = options.showReads ? events : events.filter((e) => e.kind !== 'read');
  const { head: first, gap, tail } = pickRows(drawn, max, options.culprit);
  const shown = [...first, ...tail];
  const connWidth = Math.min(14, Math.max(4, ...shown.map((e) => stringWidth(e.conn))));
  const pad = ' '.repeat(9 + connWidth + 2);
  const lines = [`${pad}${options.self.padEnd(width + 2)}${options.peer}`];
  const dropped = options.omitted ? options.omitted.events - (options.showReads ? 0 : options.omitted.reads) : 0;
  const hidden = drawn.length - shown.length - gap + dropped;
  if (hidden > 0) lines.push(`${pad}… ${hidden.toLocaleString('en-US')} earlier events not shown`);
  for (const event of first) lines.push(drawRow(event, options, width, connWidth));
  if (gap > 0) lines.push(`${pad}… ${gap.toLocaleString('en-US')} events not shown`);
  for (const event of tail) lines.push(drawRow(event, options, width, connWidth));
  return lines;
}

/** One event as a row of the diagram, marked ✗ when it is the culprit. */
function drawRow(event: TranscriptEventJson, options: DiagramOptions, width: number, connWidth: number): string {
  const conn = clip(event.conn, connWidth);
  const head = `${time(event.atMs).padStart(8)} ${conn}${' '.repeat(connWidth - stringWidth(conn))}  `;
  const mark = event.seq === options.culprit ? '  ✗' : '';
  if (event.kind === 'stdin' || event.kind === 'stdout' || event.kind === 'note') {
    const tag = event.kind === 'note' ? 'note' : event.kind;
    const row = `  [${tag}] ${clip(event.text, width - 10)}`;
    return mark ? `${head}${row}${' '.repeat(Math.max(0, width + 2 - stringWidth(row)))}${mark}` : `${head}${row}`;
  }
  const parts = label(event, options);
  const text = typeof parts === 'string' ? clip(parts, width - 4) : clip(parts[0], width - 4 - stringWidth(parts[1])) + parts[1];
  const fill = Math.max(1, width - 3 - stringWidth(text));
  let arrow: string;
  if (event.kind === 'send') arrow = `│ ${text} ${'─'.repeat(fill - 1)}▶│`;
  else if (event.kind === 'recv' || event.kind === 'read') arrow = `│◀${'─'.repeat(fill - 1)} ${text} │`;
  else if (event.kind === 'close' && event.by === 'peer') arrow = `│${' '.repeat(fill)}${text}  │`;
  else arrow = `│ ${text}${' '.repeat(fill)} │`;
  return `${head}${arrow}${mark}`;
}
