import { cellWidth } from '../terminal/index.ts';

/**
 * Exact, readable renderings of wire bytes for failure reports: valid UTF-8 is shown as text,
 * control bytes as `<LF>`, `<CR>`, `<TAB>`, invisible characters as `<U+XXXX>`, bytes that are
 * not UTF-8 as `<0xNN>`, so nothing is hidden
 * (a missing `\n`, a stray `\r`, a mangled emoji) and nothing is ambiguous (a raw newline is
 * `<LF>`, the JSON escape is the two characters `\n`).
 */

const CONTROL_NAMES: Record<number, string> = { 0x00: 'NUL', 0x09: 'TAB', 0x0a: 'LF', 0x0d: 'CR', 0x1b: 'ESC', 0x7f: 'DEL' };

/** One byte sequence shown as one piece of text. */
interface Piece {
  /** Offset of the piece's first byte. */
  byte: number;
  length: number;
  text: string;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i] as number;
  let length: number;
  let min: number;
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) [length, min] = [2, 0x80];
  else if (lead >= 0xe0 && lead <= 0xef) [length, min] = [3, 0x800];
  else if (lead >= 0xf0 && lead <= 0xf4) [length, min] = [4, 0x10000];
  else return 0;
  if (i + length > bytes.length) return 0;
  let codePoint = lead & (0xff >> (length + 1));
  for (let k = 1; k < length; k++) {
    const next = bytes[i + k] as number;
    if ((next & 0xc0) !== 0x80) return 0;
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return 0;
  return length;
}

function pieces(bytes: Uint8Array): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i] as number;
    if (byte < 0x20 || byte === 0x7f) {
      const name = CONTROL_NAMES[byte];
      out.push({ byte: i, length: 1, text: name ? `<${name}>` : `<0x${hex(byte)}>` });
      i++;
      continue;
    }
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) {
      out.push({ byte: i, length: 1, text: `<0x${hex(byte)}>` });
      i++;
      continue;
    }
    const char = Buffer.from(bytes.subarray(i, i + length)).toString('utf8');
    const codePoint = char.codePointAt(0) as number;
    // Valid but invisible characters (C1 controls, zero-width and direction marks, BOM) are named too.
    const invisible = (codePoint >= 0x80 && codePoint <= 0x9f) || (codePoint >= 0x200b && codePoint <= 0x200f) || codePoint === 0x2028 || codePoint === 0x2029 || codePoint === 0xfeff;
    out.push({ byte: i, length, text: invisible ? `<U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}>` : char });
    i += length;
  }
  return out;
}

function toBytes(value: Uint8Array | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Renders bytes exactly (see the module comment). Long input is cut with a `…(N more bytes)` tail. */
export function showBytes(value: Uint8Array | string, maxBytes = 400): string {
  const bytes = toBytes(value);
  const shown = pieces(bytes.subarray(0, maxBytes))
    .map((piece) => piece.text)
    .join('');
  return bytes.length > maxBytes ? `${shown}…(${bytes.length - maxBytes} more bytes)` : shown;
}

/** A byte-exact comparison of what was expected and what arrived, ready to print or serialise. */
export interface ByteDiff {
  /** What is compared, e.g. `text of the message bob received`. */
  label: string;
  /** Both values rendered with {@link showBytes}. */
  expected: string;
  received: string;
  expectedBytes: number;
  receivedBytes: number;
  /** Offset of the first byte that differs (the shorter length when one is a prefix of the other). */
  firstDifferentByte: number;
  /** Display column of that byte in `received` (and in `expected`), for a `^` marker under it. */
  receivedColumn: number;
  expectedColumn: number;
  /** A few bytes in hex around the difference, the differing byte in brackets. */
  expectedHex: string;
  receivedHex: string;
}

function columnOf(bytes: Buffer, offset: number): number {
  let column = 0;
  for (const piece of pieces(bytes)) {
    if (piece.byte + piece.length > offset) return column;
    column += cellWidth(piece.text);
  }
  return column;
}

function hexWindow(bytes: Buffer, offset: number): string {
  const from = Math.max(0, offset - 6);
  const to = Math.min(bytes.length, offset + 7);
  const cells: string[] = [];
  for (let i = from; i < to; i++) cells.push(i === offset ? `[${hex(bytes[i] as number)}]` : hex(bytes[i] as number));
  if (offset >= bytes.length) cells.push('[end]');
  return `${from > 0 ? '… ' : ''}${cells.join(' ')}${to < bytes.length ? ' …' : ''}`;
}

/** Offset of the first differing byte, or -1 when both are equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Compares two values byte by byte; `null` when they are identical. */
export function byteDiff(label: string, expected: Uint8Array | string, received: Uint8Array | string): ByteDiff | null {
  const want = toBytes(expected);
  const got = toBytes(received);
  const at = firstDifference(want, got);
  if (at === -1) return null;
  return {
    label,
    expected: showBytes(want),
    received: showBytes(got),
    expectedBytes: want.length,
    receivedBytes: got.length,
    firstDifferentByte: at,
    expectedColumn: columnOf(want, at),
    receivedColumn: columnOf(got, at),
    expectedHex: hexWindow(want, at),
    receivedHex: hexWindow(got, at),
  };
}
