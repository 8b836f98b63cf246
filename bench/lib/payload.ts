/**
 * The benchmark's message text: fixed-format ASCII, so a receiver can find and read it in any
 * server's framing (raw line, IRC PRIVMSG, chatlab JSON `message`) without parsing the frame.
 *
 *     |B03 s2 00000123 000012345678 xxxxxxxxxxxxxxxx…   (PAYLOAD_BYTES long)
 *     ^^  step  sender  seq       send time (µs since the generator's epoch)
 *
 * `|` never appears elsewhere in what the three servers send (user names are [a-z0-9], IRC
 * prefixes use `!~@`, JSON frames of other types carry no `|`), so a receiver scans each read
 * with `Buffer.indexOf(0x7c)` and checks the `B` after it.
 */

/** Length of the message text, in bytes (the issue asks for ~100-byte messages). */
export const PAYLOAD_BYTES = 100;

const PIPE = 0x7c;
const LETTER_B = 0x42;
const DIGIT_0 = 0x30;

const STEP_AT = 2; // 2 digits
const SENDER_AT = 6; // 1 digit
const SEQ_AT = 8; // 8 digits
const TS_AT = 17; // 12 digits
/** Bytes from the `|` up to and including the last timestamp digit. */
const HEADER_BYTES = 29;

/** Most senders a payload can name (one digit). */
export const MAX_SENDERS = 10;
/** Steps are numbered modulo this (two digits); only used to tell this step's messages from stale ones. */
export const STEP_MODULO = 100;

/** Decoded fields of one payload, reused between calls to avoid allocation. */
export interface PayloadFields {
  step: number;
  sender: number;
  seq: number;
  /** Send time, µs since the generator's epoch. */
  sentUs: number;
}

/** The ASCII template every payload is copied from, with zeros in the numeric fields. */
const TEMPLATE = Buffer.from(('|B00 s0 00000000 000000000000 ' + 'x'.repeat(PAYLOAD_BYTES)).slice(0, PAYLOAD_BYTES), 'latin1');

function writeDigits(target: Buffer, at: number, width: number, value: number): void {
  let v = Math.floor(value);
  for (let i = at + width - 1; i >= at; i--) {
    target[i] = DIGIT_0 + (v % 10);
    v = Math.floor(v / 10);
  }
}

function readDigits(source: Buffer, at: number, width: number): number {
  let v = 0;
  for (let i = at; i < at + width; i++) v = v * 10 + (source[i]! - DIGIT_0);
  return v;
}

/**
 * Writes one payload into `target` at `offset` (PAYLOAD_BYTES bytes).
 * @param sentUs send time in µs (must fit 12 digits)
 */
export function writePayload(target: Buffer, offset: number, step: number, sender: number, seq: number, sentUs: number): void {
  TEMPLATE.copy(target, offset);
  writeDigits(target, offset + STEP_AT, 2, step % STEP_MODULO);
  writeDigits(target, offset + SENDER_AT, 1, sender);
  writeDigits(target, offset + SEQ_AT, 8, seq);
  writeDigits(target, offset + TS_AT, 12, sentUs);
}

/** The payload as a string (for tests and for building a frame by hand). */
export function payloadText(step: number, sender: number, seq: number, sentUs: number): string {
  const b = Buffer.allocUnsafe(PAYLOAD_BYTES);
  writePayload(b, 0, step, sender, seq, sentUs);
  return b.toString('latin1');
}

/**
 * Finds the next payload header in `buf[from, end)`, decodes it into `out` and returns the
 * index just past it, or -1 when there is none. The caller guarantees that `end` is at a line
 * boundary, so a header found before `end` is complete.
 */
export function nextPayload(buf: Buffer, from: number, end: number, out: PayloadFields): number {
  let at = from;
  for (;;) {
    const pipe = buf.indexOf(PIPE, at);
    if (pipe === -1 || pipe + HEADER_BYTES > end) return -1;
    if (buf[pipe + 1] !== LETTER_B) {
      at = pipe + 1;
      continue;
    }
    out.step = readDigits(buf, pipe + STEP_AT, 2);
    out.sender = buf[pipe + SENDER_AT]! - DIGIT_0;
    out.seq = readDigits(buf, pipe + SEQ_AT, 8);
    out.sentUs = readDigits(buf, pipe + TS_AT, 12);
    return pipe + HEADER_BYTES;
  }
}
