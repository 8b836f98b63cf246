import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { FRAMING_MODES, type DatagramFate, type FramingMode, type WireEvent } from './events.ts';
import type { Row } from './session-model.ts';

/** Version of the trace format written in the first line. */
export const TRACE_VERSION = 1;

/** The first line of a trace file. */
export interface TraceHeader {
  kind: 'trace';
  version: number;
  tool: string;
  created: string;
}

/** A trace file could not be read; `message` names the file and line. */
export class TraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceError';
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** What the model decoded from an event, stored beside it for people and other tools. */
interface DecodedRow {
  kind: Row['kind'];
  label: string;
  summary: string;
  step: number | null;
  frame?: unknown;
}

/**
 * One JSONL line for an event. Bytes are stored exactly (base64) and, when they are valid UTF-8,
 * also as `text` so the file reads well with grep; `decoded` lists the rows the model made of it.
 */
export function serializeEvent(event: WireEvent, rows: Row[] = []): string {
  const record: Record<string, unknown> = { ...event };
  if (event.kind === 'data' || event.kind === 'datagram') {
    record.bytes = event.bytes.toString('base64');
    try {
      record.text = strictUtf8.decode(event.bytes);
    } catch {
      // not UTF-8: base64 alone carries it
    }
  }
  const decoded: DecodedRow[] = rows.map((row) => ({
    kind: row.kind,
    label: row.label,
    summary: row.summary,
    step: row.step,
    ...(row.item?.kind === 'frame' ? { frame: row.item.frame } : {}),
  }));
  if (decoded.length > 0) record.decoded = decoded;
  return JSON.stringify(record);
}

/** The header line of a new trace. */
export function traceHeader(): TraceHeader {
  return { kind: 'trace', version: TRACE_VERSION, tool: 'chatlab inspect', created: new Date().toISOString() };
}

/** Writes a trace file, one event per line, as the session goes. */
export class TraceWriter {
  private readonly stream: WriteStream;
  private failure: Error | undefined;
  readonly opened: Promise<void>;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
    this.opened = new Promise((resolve, reject) => {
      this.stream.once('open', () => resolve());
      this.stream.once('error', (error) => {
        this.failure = error;
        reject(error);
      });
    });
    this.opened.catch(() => undefined);
    this.stream.write(JSON.stringify(traceHeader()) + '\n');
  }

  /** Appends one event and what the model made of it. */
  write(event: WireEvent, rows: Row[] = []): void {
    if (this.failure || this.stream.writableEnded) return;
    this.stream.write(serializeEvent(event, rows) + '\n');
  }

  /** Finishes the file; rejects if it could not be written. */
  async close(): Promise<void> {
    if (!this.stream.writableEnded) await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    if (this.failure) throw this.failure;
  }
}

const DIRECTIONS = new Set(['c2s', 's2c']);
const DATAGRAM_FATES = new Set<string>(['delivered', 'lost', 'duplicate'] satisfies DatagramFate[]);

function fail(where: string, message: string): never {
  throw new TraceError(`${where}: ${message}`);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Checks one parsed line and turns it back into a {@link WireEvent}. */
function toEvent(record: Record<string, unknown>, where: string): WireEvent {
  const { kind, t, conn } = record;
  if (!isNumber(t)) fail(where, 'event has no numeric "t"');
  const needConn = (): number => (Number.isSafeInteger(conn) ? (conn as number) : fail(where, `"${String(kind)}" event has no connection number "conn"`));
  const needDir = (): 'c2s' | 's2c' => (DIRECTIONS.has(record.dir as string) ? (record.dir as 'c2s' | 's2c') : fail(where, `"${String(kind)}" event has no "dir" (c2s or s2c)`));
  switch (kind) {
    case 'listening': {
      const listen = record.listen as { host?: unknown; port?: unknown } | undefined;
      const target = record.target as { host?: unknown; port?: unknown } | undefined;
      if (!target || typeof target.host !== 'string' || !isNumber(target.port)) fail(where, '"listening" event has no target host and port');
      const framing = FRAMING_MODES.includes(record.framing as never) ? (record.framing as FramingMode) : 'auto';
      return {
        kind,
        t,
        listen: { host: String(listen?.host ?? '127.0.0.1'), port: Number(listen?.port ?? 0) },
        target: { host: target.host, port: target.port },
        framing,
        ...(record.faults && typeof record.faults === 'object' ? { faults: record.faults as never } : {}),
        ...(record.transport === 'udp' || record.transport === 'tcp' ? { transport: record.transport } : {}),
      };
    }
    case 'open':
      return { kind, t, conn: needConn(), peer: String(record.peer ?? `#${String(conn)}`) };
    case 'upstream':
      return { kind, t, conn: needConn(), local: String(record.local ?? '') };
    case 'data': {
      if (typeof record.bytes !== 'string') fail(where, '"data" event has no base64 "bytes"');
      const read = Number.isSafeInteger(record.read) ? (record.read as number) : fail(where, '"data" event has no read number');
      return { kind, t, conn: needConn(), dir: needDir(), read, bytes: Buffer.from(record.bytes, 'base64') };
    }
    case 'datagram': {
      if (typeof record.bytes !== 'string') fail(where, '"datagram" event has no base64 "bytes"');
      const seq = Number.isSafeInteger(record.seq) ? (record.seq as number) : fail(where, '"datagram" event has no sequence number "seq"');
      const fate = DATAGRAM_FATES.has(record.fate as string) ? (record.fate as DatagramFate) : fail(where, '"datagram" event has no "fate" (delivered, lost or duplicate)');
      return { kind, t, conn: needConn(), dir: needDir(), seq, bytes: Buffer.from(record.bytes, 'base64'), fate };
    }
    case 'end':
      return { kind, t, conn: needConn(), dir: needDir() };
    case 'close': {
      const side = record.side === 'client' || record.side === 'server' ? record.side : fail(where, '"close" event has no side (client or server)');
      return { kind, t, conn: needConn(), side, ...(typeof record.error === 'string' ? { error: record.error } : {}), ...(record.reset === true ? { reset: true } : {}) };
    }
    case 'fault':
      return { kind, t, conn: needConn(), fault: 'drop', detail: String(record.detail ?? '') };
    case 'gap':
      return { kind, t, conn: needConn(), dir: needDir(), bytes: Number(record.bytes ?? 0) };
    case 'silent':
      return { kind, t, conn: needConn(), ms: Number(record.ms ?? 0) };
    default:
      return fail(where, `unknown event kind ${JSON.stringify(kind)}`);
  }
}

/** Parses the text of a trace file. `name` is used in error messages. */
export function parseTrace(text: string, name = 'trace'): WireEvent[] {
  const events: WireEvent[] = [];
  const lines = text.split('\n');
  let sawHeader = false;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${name}:${index + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      fail(where, 'not a JSON line (is this a chatlab trace recorded with --record?)');
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) fail(where, 'not a JSON object');
    const object = record as Record<string, unknown>;
    if (!sawHeader) {
      if (object.kind !== 'trace') fail(where, 'not a chatlab trace (the first line must be the {"kind":"trace",…} header written by --record)');
      if (typeof object.version === 'number' && object.version > TRACE_VERSION) fail(where, `trace format version ${object.version} is newer than this chatlab understands (${TRACE_VERSION})`);
      sawHeader = true;
      return;
    }
    events.push(toEvent(object, where));
  });
  if (!sawHeader) fail(name, 'empty file: not a chatlab trace');
  return events;
}

/** Reads a trace file written with `--record`. */
export async function readTrace(path: string): Promise<WireEvent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TraceError(code === 'ENOENT' ? `${path}: no such trace file` : `${path}: cannot read (${(error as Error).message})`);
  }
  return parseTrace(text, path);
}
