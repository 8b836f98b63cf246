import { MAX_FRAME_BYTES } from './limits.ts';

/** Which reads (1-based, in arrival order) held the bytes of one item. */
export interface ReadSpan {
  first: number;
  last: number;
}

/** One result of splitting a byte stream into `\n`-terminated lines. */
export type LineItem =
  /** A whole line. `line` excludes the terminator (`\n` or `\r\n`); `raw` is the exact bytes. */
  | { kind: 'line'; line: Buffer; raw: Buffer; reads: ReadSpan }
  /**
   * A line grew past the limit. Reported as soon as it is known (not at its newline, which may
   * never come); the rest of that line is then skipped. `head` is its first bytes, for display.
   */
  | { kind: 'overflow'; byteLength: number; head: Buffer; reads: ReadSpan }
  /** The stream ended inside a line (only from {@link LineSplitter.end}). */
  | { kind: 'truncated'; raw: Buffer; reads: ReadSpan };

const HEAD_BYTES = 64;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a TCP byte stream into lines, whatever the read boundaries: a small state machine
 * (collecting a line, or skipping the rest of an oversized one) in the style of ws's receiver.
 * Pure: it never touches a socket, so the server, client, inspector and verifier share it.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readCount = 0;
  private firstRead = 0;
  private skipping = false;

  /** @param maxLineBytes largest line accepted, terminator included. */
  constructor(private readonly maxLineBytes: number = MAX_FRAME_BYTES) {}

  /** Number of bytes held for a line not yet terminated. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** A copy of the bytes held for a line not yet terminated (empty while none is held). */
  pendingLine(): Buffer {
    return Buffer.concat(this.pending, this.pendingBytes);
  }

  /** Feeds one read's bytes; returns every item completed by them, in order. */
  push(chunk: Uint8Array): LineItem[] {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const items: LineItem[] = [];
    const read = ++this.readCount;
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(NEWLINE, start);
      if (this.skipping) {
        if (newline === -1) break;
        this.skipping = false;
        start = newline + 1;
        continue;
      }
      if (this.pendingBytes === 0) this.firstRead = read;
      const end = newline === -1 ? bytes.length : newline + 1;
      const piece = bytes.subarray(start, end);
      const total = this.pendingBytes + piece.length;
      // Without its newline yet, a line already at the limit can only end up over it.
      if (newline === -1 ? total >= this.maxLineBytes : total > this.maxLineBytes) {
        // At most `maxLineBytes` bytes and never the newline: the head is then the same wherever
        // the reads were cut (at least that many line bytes are known when the overflow is noticed).
        const headBytes = Math.min(HEAD_BYTES, this.maxLineBytes);
        const content = newline === -1 ? piece : piece.subarray(0, piece.length - 1);
        const head = Buffer.concat([...this.pending, content.subarray(0, headBytes)]).subarray(0, headBytes);
        items.push({ kind: 'overflow', byteLength: total, head: Buffer.from(head), reads: { first: this.firstRead, last: read } });
        this.reset();
        this.skipping = newline === -1;
        start = end;
        continue;
      }
      if (newline === -1) {
        // Copy, so a held partial line does not pin the whole read buffer in memory.
        this.pending.push(Buffer.from(piece));
        this.pendingBytes = total;
        break;
      }
      const raw = this.pendingBytes === 0 ? piece : Buffer.concat([...this.pending, piece], total);
      let lineEnd = raw.length - 1;
      if (lineEnd > 0 && raw[lineEnd - 1] === CARRIAGE_RETURN) lineEnd--;
      items.push({ kind: 'line', line: raw.subarray(0, lineEnd), raw, reads: { first: this.firstRead, last: read } });
      this.reset();
      start = end;
    }
    return items;
  }

  /** Call when the stream has ended: reports a line left without its terminator, if any. */
  end(): Extract<LineItem, { kind: 'truncated' }>[] {
    if (this.pendingBytes === 0) return [];
    const raw = Buffer.concat(this.pending, this.pendingBytes);
    const item = { kind: 'truncated' as const, raw, reads: { first: this.firstRead, last: this.readCount } };
    this.reset();
    return [item];
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}
