/** One code point decoded from UTF-8 bytes, or one byte that is not valid UTF-8. */
export type Utf8Unit = { ok: true; codePoint: number; char: string; bytes: Buffer; offset: number } | { ok: false; byte: number; offset: number };

/** Length of the UTF-8 sequence a lead byte starts, or 0 when it cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Decodes bytes as UTF-8 one code point at a time, keeping each code point's own bytes, so a
 * learner sees that 👋 is four bytes (F0 9F 91 8B) but one code point. Bytes that do not form
 * valid UTF-8 (overlong, surrogate, truncated) come out one by one as `ok: false`.
 */
export function decodeUtf8Units(bytes: Uint8Array): Utf8Unit[] {
  const units: Utf8Unit[] = [];
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    const length = sequenceLength(lead);
    let codePoint = length === 1 ? lead : length === 2 ? lead & 0x1f : length === 3 ? lead & 0x0f : lead & 0x07;
    let valid = length > 0 && i + length <= bytes.length;
    for (let k = 1; valid && k < length; k++) {
      const next = bytes[i + k] as number;
      if ((next & 0xc0) !== 0x80) valid = false;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (valid && length === 3 && (codePoint < 0x800 || (codePoint >= 0xd800 && codePoint <= 0xdfff))) valid = false;
    if (valid && length === 4 && (codePoint < 0x10000 || codePoint > 0x10ffff)) valid = false;
    if (!valid) {
      units.push({ ok: false, byte: lead, offset: i });
      i++;
      continue;
    }
    const raw = Buffer.from(bytes.subarray(i, i + length));
    units.push({ ok: true, codePoint, char: String.fromCodePoint(codePoint), bytes: raw, offset: i });
    i += length;
  }
  return units;
}

/** Two-digit upper-case hex of each byte, space separated: `7B 22 F0 9F`. */
export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

/** `U+1F44B` notation for a code point. */
export function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Printable ASCII stays, every other byte becomes `.` (the right-hand column of a hex dump). */
export function printableAscii(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
}

/**
 * A classic hex dump: offset, 16 bytes in hex (a gap after 8), and the printable view.
 * `0000  7B 22 74 79 70 65 22 3A  22 73 61 79 22 7D 0A     {"type":"say"}.`
 */
export function hexDump(bytes: Uint8Array, bytesPerLine = 16): string[] {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += bytesPerLine) {
    const slice = bytes.subarray(offset, offset + bytesPerLine);
    const half = bytesPerLine / 2;
    const hex = `${hexBytes(slice.subarray(0, half))}  ${hexBytes(slice.subarray(half))}`.trimEnd();
    const width = bytesPerLine * 3 + 1;
    lines.push(`${offset.toString(16).toUpperCase().padStart(4, '0')}  ${hex.padEnd(width)} ${printableAscii(slice)}`);
  }
  return lines;
}

const CONTROL_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * How many bytes at the end of `bytes` are the start of a UTF-8 sequence that does not finish
 * inside them (0 when the last code point is complete, or the tail is not UTF-8 at all).
 */
export function incompleteUtf8Tail(bytes: Uint8Array): number {
  // A sequence is at most 4 bytes: look back over at most 3 continuation bytes for its lead.
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const b = bytes[bytes.length - back] as number;
    if ((b & 0xc0) === 0x80) continue;
    const length = sequenceLength(b);
    return length > back ? back : 0;
  }
  return 0;
}

function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => CONTROL_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Valid code points as themselves, bytes that are not valid UTF-8 as `\xNN`. */
function lenientText(bytes: Uint8Array): string {
  return decodeUtf8Units(bytes)
    .map((u) => (u.ok ? u.char : `\\x${u.byte.toString(16).padStart(2, '0')}`))
    .join('');
}

/**
 * A short one-line view of raw bytes for a diagram label: the text with escapes when the bytes
 * are mostly text, otherwise hex. At most `max` bytes are shown.
 *
 * "Text" means printable ASCII, tab, CR and LF, and bytes >= 0x80 only when they form valid
 * UTF-8 (a code point cut by `max` is left out, not counted against it). Other C0 controls and
 * DEL are not text. Encrypted or compressed bytes are about half >= 0x80 and never valid UTF-8
 * for long, so they always come out as hex (`17 03 03 00 44 …`), while emoji and CJK stay text.
 */
export function bytesPreview(bytes: Uint8Array, max = 24): string {
  const cut = bytes.length > max;
  const more = cut ? '…' : '';
  const head = bytes.subarray(0, max);
  // A code point that continues past the cut (or past the end of a read) is not an error.
  const tail = incompleteUtf8Tail(head);
  const whole = head.subarray(0, head.length - tail);
  let ascii = 0;
  let high = false;
  for (const b of whole) {
    if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) ascii++;
    else if (b >= 0x80) high = true;
  }
  let utf8 = false;
  if (high) {
    try {
      strictUtf8.decode(whole);
      utf8 = true;
    } catch {
      // not UTF-8: its bytes >= 0x80 are not text
    }
  }
  let text = ascii;
  if (utf8) for (const b of whole) if (b >= 0x80) text++;
  if (whole.length === 0 || text / whole.length < 0.75) return hexBytes(head) + more;
  // Mostly text: show it, with controls and any stray non-UTF-8 byte escaped.
  const shown = escapeControls(lenientText(whole));
  // The incomplete code point at a cut is dropped (the … says more follows); at the real end it is shown as bytes.
  const rest = cut ? '' : Array.from(head.subarray(whole.length), (b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  return shown + rest + more;
}
