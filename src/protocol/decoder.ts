import { LineSplitter, type ReadSpan } from './line-splitter.ts';
import { MAX_FRAME_BYTES, MAX_NESTING_DEPTH } from './limits.ts';
import type { RawFrame } from './frames.ts';

/** One result of decoding a chatlab/1 byte stream. */
export type DecodeResult =
  /** A well-formed frame: a JSON object with a string `type` (fields not yet validated). */
  | { ok: true; frame: RawFrame; raw: Buffer; reads: ReadSpan }
  /**
   * Bytes that are not a frame. `bad_frame`: not UTF-8, starts with a BOM, not JSON, not an object,
   * nested deeper than MAX_NESTING_DEPTH, no `type`, or the stream ended mid-frame. `frame_too_large`: over the limit (`raw` then holds only its head).
   */
  | { ok: false; code: 'bad_frame' | 'frame_too_large'; message: string; raw: Buffer; reads: ReadSpan };

// ignoreBOM: a BOM is never stripped silently; parseFrameLine refuses it with its own message.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const BLANK_LINE = /^[ \t]*$/;

/** Whether a line starts with the UTF-8 byte order mark EF BB BF (Windows editors and tools add one). */
function startsWithBom(line: Uint8Array): boolean {
  return line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf;
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether valid JSON text nests objects/arrays deeper than `limit` levels (the outermost value is
 * level 1). One pass over the text, skipping strings, so no recursion however deep the input.
 */
export function nestsDeeperThan(json: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * Parses one line (terminator removed) into a frame, or says why it is not one.
 * Returns `null` for a blank line, which the protocol ignores. A line that starts with a UTF-8 BOM
 * is not a frame (JSON forbids it; Python's `json.loads` and JS `JSON.parse` both refuse it).
 */
export function parseFrameLine(line: Uint8Array): { ok: true; frame: RawFrame } | { ok: false; message: string } | null {
  if (startsWithBom(line)) return { ok: false, message: 'frame starts with a UTF-8 byte order mark (bytes EF BB BF); send JSON without a BOM' };
  let text: string;
  try {
    text = strictUtf8.decode(line);
  } catch {
    return { ok: false, message: 'frame is not valid UTF-8' };
  }
  if (BLANK_LINE.test(text)) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `frame is not valid JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'frame must be a JSON object' };
  }
  if (nestsDeeperThan(text, MAX_NESTING_DEPTH)) {
    return { ok: false, message: `frame nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep` };
  }
  if (typeof (value as { type?: unknown }).type !== 'string') {
    return { ok: false, message: 'frame has no string field "type"' };
  }
  return { ok: true, frame: value as RawFrame };
}

/**
 * The streaming chatlab/1 decoder: feed it each TCP read, get back whole frames.
 * A frame split over many reads, several frames in one read, `\r\n`, blank lines and the
 * 65,536-byte limit are all handled; a bad frame is reported and decoding carries on after it.
 */
export class FrameDecoder {
  private readonly lines: LineSplitter;

  constructor(private readonly maxFrameBytes: number = MAX_FRAME_BYTES) {
    this.lines = new LineSplitter(maxFrameBytes);
  }

  /** Bytes held for a frame whose newline has not arrived yet. */
  get bufferedBytes(): number {
    return this.lines.bufferedBytes;
  }

  /** A copy of the bytes of a frame whose newline has not arrived yet (what a report shows). */
  pendingFrame(): Buffer {
    return this.lines.pendingLine();
  }

  /** Feeds one read's bytes; returns every frame (or framing error) they complete, in order. */
  push(chunk: Uint8Array): DecodeResult[] {
    const results: DecodeResult[] = [];
    for (const item of this.lines.push(chunk)) {
      if (item.kind === 'overflow') {
        results.push({
          ok: false,
          code: 'frame_too_large',
          message: `frame exceeds ${this.maxFrameBytes} bytes (newline included)`,
          raw: item.head,
          reads: item.reads,
        });
        continue;
      }
      if (item.kind !== 'line') continue;
      const parsed = parseFrameLine(item.line);
      if (parsed === null) continue;
      results.push(parsed.ok ? { ok: true, frame: parsed.frame, raw: item.raw, reads: item.reads } : { ok: false, code: 'bad_frame', message: parsed.message, raw: item.raw, reads: item.reads });
    }
    return results;
  }

  /** Call at end of stream: reports a frame cut off before its newline, if any. */
  end(): DecodeResult[] {
    return this.lines.end().map((item) => ({
      ok: false as const,
      code: 'bad_frame' as const,
      message: `stream ended inside a frame (${item.raw.length} bytes without a newline)`,
      raw: item.raw,
      reads: item.reads,
    }));
  }
}
