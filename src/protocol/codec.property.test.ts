/**
 * Properties of the codec, checked on generated input (fast-check): however a stream of valid
 * frames is cut into reads, it decodes to the same frames; decode(encode(f)) is f for every frame
 * type of both directions; and every invalid line gives exactly one documented error, after
 * which the decoder carries on with the next line. A failure prints the smallest input found.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyClientFrame, anyServerFrame, badFrameLine, clientFrames, oversizedLine, serverFrames, type InvalidLine } from '../../test-support/frame-arbitraries.ts';
import { CORE_ERROR_CODES, FrameDecoder, MAX_FRAME_BYTES, encodeFrame, validateClientFrame, validateServerFrame, type DecodeResult, type Frame, type RawFrame } from './index.ts';

/** Few runs per property: together they stay well under a second or two. */
const RUNS = { numRuns: 150 };

/** Feeds `chunks` to a fresh decoder and returns every result, end() included. */
function decodeAll(chunks: Uint8Array[], limit = MAX_FRAME_BYTES): DecodeResult[] {
  const decoder = new FrameDecoder(limit);
  return [...chunks.flatMap((chunk) => decoder.push(chunk)), ...decoder.end()];
}

/** Cuts `bytes` at the given offsets (any numbers: taken modulo the length, sorted, deduplicated). */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const at = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const end of [...at, bytes.length]) {
    chunks.push(bytes.subarray(start, end));
    start = end;
  }
  return chunks;
}

/** Offsets inside multi-byte characters (at a UTF-8 continuation byte): the cuts most likely to hurt. */
function midCharacterOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (((bytes[i] as number) & 0xc0) === 0x80) offsets.push(i);
  return offsets;
}

/** The same frame written with every non-ASCII character as `\uXXXX` escapes (also valid JSON). */
function asciiEscaped(frame: Frame): Buffer {
  const json = JSON.stringify(frame).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return Buffer.from(`${json}\n`);
}

/** One frame as a sender may write it: compact or escaped, ended by `\n` or `\r\n`, maybe after blank lines. */
const writtenFrame = fc.tuple(fc.oneof(anyClientFrame, anyServerFrame), fc.boolean(), fc.boolean(), fc.constantFrom('', '\n', '\r\n', ' \t\n', '\n\n')).map(([frame, escaped, crlf, blanks]) => {
  let bytes = escaped ? asciiEscaped(frame) : encodeFrame(frame);
  if (crlf) bytes = Buffer.concat([bytes.subarray(0, -1), Buffer.from('\r\n')]);
  return { frame, bytes: Buffer.concat([Buffer.from(blanks), bytes]) };
});

describe('codec properties', () => {
  it('a sequence of valid frames cut anywhere (CRLF, blank lines, mid-character) decodes to the same frames', () => {
    fc.assert(
      fc.property(fc.array(writtenFrame, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 6 }), (written, anywhere, midCharacter) => {
        const stream = Buffer.concat(written.map((w) => w.bytes));
        const inside = midCharacterOffsets(stream);
        const offsets = [...anywhere, ...(inside.length > 0 ? midCharacter.map((k) => inside[k % inside.length] as number) : [])];
        const results = decodeAll(cut(stream, offsets));
        expect(results.every((r) => r.ok)).toBe(true);
        expect(results.map((r) => (r.ok ? r.frame : r.code))).toEqual(written.map((w) => w.frame));
      }),
      RUNS,
    );
  });

  it('byte by byte gives the same frames as one read', () => {
    fc.assert(
      fc.property(fc.array(writtenFrame, { minLength: 1, maxLength: 4 }), (written) => {
        const stream = Buffer.concat(written.map((w) => w.bytes));
        const bytewise = decodeAll(Array.from(stream, (b) => Buffer.from([b])));
        expect(bytewise.map((r) => (r.ok ? r.frame : r.code))).toEqual(decodeAll([stream]).map((r) => (r.ok ? r.frame : r.code)));
      }),
      { numRuns: 40 },
    );
  });

  it.each(Object.entries(clientFrames))('decode(encode(f)) is f, and valid, for every client %s', (_, arbitrary) => {
    fc.assert(
      fc.property(arbitrary, (frame) => {
        const [result, ...rest] = decodeAll([encodeFrame(frame)]);
        expect(rest).toEqual([]);
        expect(result?.ok && result.frame).toEqual(frame);
        expect(validateClientFrame(frame as unknown as RawFrame)).toEqual({ ok: true, frame });
      }),
      { numRuns: 25 },
    );
  });

  it.each(Object.entries(serverFrames))('decode(encode(f)) is f, and valid, for every server %s', (_, arbitrary) => {
    fc.assert(
      fc.property(arbitrary, (frame) => {
        const [result, ...rest] = decodeAll([encodeFrame(frame)]);
        expect(rest).toEqual([]);
        expect(result?.ok && result.frame).toEqual(frame);
        expect(validateServerFrame(frame as unknown as RawFrame)).toEqual({ ok: true, frame });
      }),
      { numRuns: 25 },
    );
  });
});

/** A small limit, so oversized lines are cheap to generate. */
const SMALL_LIMIT = 256;

/** An invalid line between two valid frames, the whole cut anywhere. */
function checkOneErrorThenResync(invalid: InvalidLine, before: Frame, after: Frame, offsets: number[], limit: number): void {
  const stream = Buffer.concat([encodeFrame(before), invalid.line, Buffer.from('\n'), encodeFrame(after)]);
  const results = decodeAll(cut(stream, offsets), limit);
  const errors = results.filter((r) => !r.ok);
  expect(
    errors.map((r) => !r.ok && r.code),
    invalid.kind,
  ).toEqual([invalid.code]);
  const [error] = errors;
  if (error && !error.ok) {
    expect(CORE_ERROR_CODES).toContain(error.code);
    expect(error.message.length).toBeGreaterThan(0);
  }
  expect(results.map((r) => (r.ok ? r.frame : r.code))).toEqual([before, invalid.code, after]);
}

describe('decoder properties on invalid input', () => {
  const small = fc.constantFrom<Frame>({ type: 'ping', id: 1 }, { type: 'say', text: 'hé 👋' }, { type: 'pong', ts: 1 });

  it('garbage, non-object JSON, no string type, a BOM, bad UTF-8: exactly one bad_frame, then the next line decodes', () => {
    fc.assert(
      fc.property(badFrameLine, small, small, fc.array(fc.nat(), { maxLength: 8 }), (invalid, before, after, offsets) => {
        checkOneErrorThenResync(invalid, before, after, offsets, MAX_FRAME_BYTES);
      }),
      { numRuns: 300 },
    );
  });

  it('an oversized line: exactly one frame_too_large, reported once, then the next line decodes', () => {
    fc.assert(
      fc.property(oversizedLine(SMALL_LIMIT), small, small, fc.array(fc.nat(), { maxLength: 8 }), (invalid, before, after, offsets) => {
        checkOneErrorThenResync(invalid, before, after, offsets, SMALL_LIMIT);
      }),
      RUNS,
    );
  });

  it('arbitrary bytes never throw, and a valid frame after a newline is always decoded', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 8 }), (noise, offsets) => {
        const last = { type: 'say', text: 'still here 👋' };
        const stream = Buffer.concat([Buffer.from(noise), Buffer.from('\n'), encodeFrame(last)]);
        const results = decodeAll(cut(stream, offsets), SMALL_LIMIT);
        const final = results.at(-1);
        expect(final?.ok && final.frame).toEqual(last);
        for (const r of results) if (!r.ok) expect(['bad_frame', 'frame_too_large']).toContain(r.code);
      }),
      RUNS,
    );
  });
});
