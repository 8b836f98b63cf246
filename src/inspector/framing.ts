import { LineSplitter, MAX_FRAME_BYTES, parseFrameLine, type Direction, type LineItem, type RawFrame } from '../protocol/index.ts';
import type { FramingMode } from './events.ts';
import { incompleteUtf8Tail } from './text/bytes.ts';
import { TlsRecordTracker, type TlsSegment } from './tls-records.ts';

/** How many bytes of one framed item came from one read. */
export interface ReadPart {
  read: number;
  t: number;
  bytes: number;
}

/** What one item of a byte stream turned out to be. */
type FramedContent =
  /** A chatlab/1 frame (a JSON object with a string `type`). */
  | { kind: 'frame'; frame: RawFrame }
  /** Bytes that should have been a chatlab/1 frame but are not (or a line over the limit). */
  | { kind: 'bad'; code: 'bad_frame' | 'frame_too_large'; message: string }
  /** A text line of a line protocol (IRC, SMTP, Redis inline…), terminator excluded from `text`. */
  | { kind: 'line'; text: string }
  /**
   * Bytes of an unknown protocol, one item per read. `tls` lists the TLS records (or parts of
   * records) the read holds, when the stream is TLS.
   */
  | { kind: 'chunk'; tls?: TlsSegment[] };

/** Something the framer cut out of a byte stream. `raw` is always the exact bytes. */
export type FramedItem = { dir: Direction; raw: Buffer; parts: ReadPart[] } & FramedContent;

/** What one read did to the framing: the teaching view of `--show-reads`. */
export interface ReadReport {
  dir: Direction;
  read: number;
  t: number;
  bytes: number;
  /** Items this read completed. */
  completed: number;
  /** The first completed item had begun in an earlier read. */
  finishesEarlier: boolean;
  /** Bytes of an unfinished item held after this read (0 = the read ended on a boundary). */
  held: number;
}

/** Result of feeding bytes to a framer. */
export interface FramingResult {
  items: FramedItem[];
  reads: ReadReport[];
}

interface TrackedRead {
  read: number;
  t: number;
  start: number;
  end: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Frames one direction of one connection. chatlab/1 and lines both split with the protocol's
 * LineSplitter; chatlab then parses each line with parseFrameLine exactly as FrameDecoder does,
 * but keeps blank lines in view so every byte's stream offset (and so its read) is known.
 */
class DirectionFramer {
  private splitter: LineSplitter | null;
  // Raw streams only: a TLS stream is raw bytes to every other framing.
  private readonly tls: TlsRecordTracker | null;
  private skipToNewline = false;
  private readonly reads: TrackedRead[] = [];
  private streamEnd = 0;

  constructor(
    private readonly mode: 'chatlab' | 'lines' | 'raw',
    private readonly dir: Direction,
  ) {
    this.splitter = mode === 'raw' ? null : new LineSplitter(MAX_FRAME_BYTES);
    this.tls = mode === 'raw' ? new TlsRecordTracker() : null;
  }

  /**
   * Bytes were lost (the view fell behind): forget the unfinished item and, for line-based
   * framings, skip to the next newline so the next item starts on a real boundary.
   */
  resync(): void {
    this.tls?.resync();
    if (!this.splitter) return;
    this.splitter = new LineSplitter(MAX_FRAME_BYTES);
    this.reads.length = 0;
    this.skipToNewline = true;
  }

  push(chunk: Buffer, read: number, t: number): FramingResult {
    let bytes = chunk;
    if (this.skipToNewline) {
      const newline = bytes.indexOf(0x0a);
      this.streamEnd += newline === -1 ? bytes.length : newline + 1;
      if (newline === -1) return { items: [], reads: [{ dir: this.dir, read, t, bytes: chunk.length, completed: 0, finishesEarlier: false, held: 0 }] };
      this.skipToNewline = false;
      bytes = bytes.subarray(newline + 1);
    }
    const start = this.streamEnd;
    this.streamEnd += bytes.length;
    const heldBefore = this.splitter?.bufferedBytes ?? 0;
    if (!this.splitter) {
      const tls = this.tls?.push(bytes);
      const items: FramedItem[] = [{ kind: 'chunk', dir: this.dir, raw: bytes, parts: [{ read, t, bytes: bytes.length }], ...(tls ? { tls } : {}) }];
      return { items, reads: [{ dir: this.dir, read, t, bytes: bytes.length, completed: 1, finishesEarlier: false, held: 0 }] };
    }
    this.reads.push({ read, t, start, end: this.streamEnd });
    const lineItems = this.splitter.push(bytes);
    const items = this.convert(lineItems, this.streamEnd - this.splitter.bufferedBytes);
    this.prune();
    return {
      items,
      reads: [{ dir: this.dir, read, t, bytes: chunk.length, completed: items.length, finishesEarlier: heldBefore > 0 && lineItems.length > 0, held: this.splitter.bufferedBytes }],
    };
  }

  end(): FramedItem[] {
    if (!this.splitter) return [];
    const items = this.convert(this.splitter.end(), this.streamEnd);
    this.reads.length = 0;
    return items;
  }

  // Items of one push lie back to back and the last one ends where the held bytes begin, so
  // their stream offsets are found walking backwards (skipped bytes of an oversized line can
  // only come before the first item or after the last).
  private convert(lineItems: LineItem[], endOffset: number): FramedItem[] {
    const spans: Array<{ start: number; end: number }> = [];
    let end = endOffset;
    for (let i = lineItems.length - 1; i >= 0; i--) {
      const item = lineItems[i] as LineItem;
      const length = item.kind === 'overflow' ? item.byteLength : item.raw.length;
      spans[i] = { start: end - length, end };
      end -= length;
    }
    const out: FramedItem[] = [];
    lineItems.forEach((item, i) => {
      const span = spans[i] as { start: number; end: number };
      const parts = this.partsOf(span.start, span.end);
      const base = { dir: this.dir, parts };
      if (item.kind === 'overflow') {
        out.push({
          ...base,
          kind: 'bad',
          code: 'frame_too_large',
          raw: item.head,
          message: `${this.mode === 'lines' ? 'line' : 'frame'} exceeds ${MAX_FRAME_BYTES} bytes (newline included); the rest of it is skipped`,
        });
        return;
      }
      if (item.kind === 'truncated') {
        out.push({ ...base, kind: 'bad', code: 'bad_frame', raw: item.raw, message: `stream ended inside a ${this.mode === 'lines' ? 'line' : 'frame'} (${item.raw.length} bytes without a newline)` });
        return;
      }
      if (this.mode === 'lines') {
        out.push({ ...base, kind: 'line', text: utf8.decode(item.line), raw: item.raw });
        return;
      }
      const parsed = parseFrameLine(item.line);
      if (parsed === null) return; // a blank line: the protocol ignores it, so does the diagram
      out.push(parsed.ok ? { ...base, kind: 'frame', frame: parsed.frame, raw: item.raw } : { ...base, kind: 'bad', code: 'bad_frame', message: parsed.message, raw: item.raw });
    });
    return out;
  }

  private partsOf(start: number, end: number): ReadPart[] {
    const parts: ReadPart[] = [];
    for (const r of this.reads) {
      const bytes = Math.min(end, r.end) - Math.max(start, r.start);
      if (bytes > 0) parts.push({ read: r.read, t: r.t, bytes });
    }
    return parts;
  }

  private prune(): void {
    const keepFrom = this.streamEnd - (this.splitter?.bufferedBytes ?? 0);
    let drop = 0;
    while (drop < this.reads.length && (this.reads[drop] as TrackedRead).end <= keepFrom) drop++;
    if (drop > 0) this.reads.splice(0, drop);
  }
}

interface HeldRead {
  dir: Direction;
  bytes: Buffer;
  read: number;
  t: number;
}

const WHITESPACE = new Set([0x20, 0x09, 0x0d, 0x0a]);
const AUTO_TEXT_LIMIT = 4096;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isText(bytes: Buffer): boolean {
  for (const b of bytes) if ((b < 0x20 && !WHITESPACE.has(b)) || b === 0x7f) return false;
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Guesses the framing of a connection from the first bytes of one direction, or returns
 * `undefined` while there is not enough to tell. A JSON object on the first line means chatlab/1;
 * other text with a newline means a line protocol; anything else is raw bytes.
 */
export function detectFraming(held: Buffer, ended = false): 'chatlab' | 'lines' | 'raw' | undefined {
  let start = 0;
  while (start < held.length && WHITESPACE.has(held[start] as number)) start++;
  if (start === held.length) return ended && held.length > 0 ? 'lines' : undefined;
  const newline = held.indexOf(0x0a, start);
  if (held[start] === 0x7b /* { */) {
    if (newline === -1) return ended || held.length >= MAX_FRAME_BYTES ? 'chatlab' : undefined;
    const parsed = parseFrameLine(held.subarray(start, newline));
    if (parsed?.ok) return 'chatlab';
    return isText(held.subarray(0, newline)) ? 'lines' : 'raw';
  }
  // Judge only whole code points: a read may end inside a multi-byte character.
  const complete = newline === -1 ? held.subarray(0, held.length - incompleteUtf8Tail(held)) : held.subarray(0, newline);
  if (!isText(complete)) return 'raw';
  if (newline !== -1) return 'lines';
  if (ended) return isText(held) ? 'lines' : 'raw';
  return held.length > AUTO_TEXT_LIMIT ? 'raw' : undefined;
}

/**
 * Frames both directions of one connection. In `auto` mode it holds the first bytes until
 * {@link detectFraming} can tell (usually the server's first line), then replays them through the
 * chosen framer, so nothing is lost and read numbers stay exact.
 */
export class ConnectionFramer {
  private framers: Partial<Record<Direction, DirectionFramer>> = {};
  private resolved: 'chatlab' | 'lines' | 'raw' | undefined;
  private held: HeldRead[] = [];
  private ended = new Set<Direction>();

  constructor(readonly requested: FramingMode) {
    if (requested !== 'auto') this.resolved = requested;
  }

  /** The framing in use, or `undefined` while auto-detection still waits for bytes. */
  get mode(): 'chatlab' | 'lines' | 'raw' | undefined {
    return this.resolved;
  }

  /** Feeds one read of one direction. May return items of the other direction too (auto replay). */
  push(dir: Direction, bytes: Buffer, read: number, t: number): FramingResult {
    if (this.resolved) return this.framer(dir).push(bytes, read, t);
    this.held.push({ dir, bytes, read, t });
    const decided = detectFraming(Buffer.concat(this.held.filter((h) => h.dir === dir).map((h) => h.bytes)));
    return decided ? this.resolve(decided) : { items: [], reads: [] };
  }

  /** The `dir` stream ended: reports an item cut off before its terminator, if any. */
  end(dir: Direction): FramingResult {
    this.ended.add(dir);
    let result: FramingResult = { items: [], reads: [] };
    if (!this.resolved) {
      const mine = this.held.filter((h) => h.dir === dir);
      if (mine.length === 0) return result;
      result = this.resolve(detectFraming(Buffer.concat(mine.map((h) => h.bytes)), true) ?? 'raw');
    }
    const items = this.framer(dir).end();
    return { items: [...result.items, ...items], reads: result.reads };
  }

  /** Bytes of `dir` were lost before reaching the framer: resynchronise on the next boundary. */
  gap(dir: Direction): void {
    if (this.resolved) this.framer(dir).resync();
    else this.held = this.held.filter((h) => h.dir !== dir);
  }

  private resolve(mode: 'chatlab' | 'lines' | 'raw'): FramingResult {
    this.resolved = mode;
    const items: FramedItem[] = [];
    const reads: ReadReport[] = [];
    for (const h of this.held) {
      const result = this.framer(h.dir).push(h.bytes, h.read, h.t);
      items.push(...result.items);
      reads.push(...result.reads);
    }
    this.held = [];
    // A direction that ended while we waited still owes its end-of-stream report.
    for (const dir of this.ended) items.push(...this.framer(dir).end());
    return { items, reads };
  }

  private framer(dir: Direction): DirectionFramer {
    let framer = this.framers[dir];
    if (!framer) {
      framer = new DirectionFramer(this.resolved ?? 'raw', dir);
      this.framers[dir] = framer;
    }
    return framer;
  }
}
