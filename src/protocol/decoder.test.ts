import { describe, expect, it } from 'vitest';
import { prng } from '../../test-support/prng.ts';
import { chunkings } from '../../test-support/chunkings.ts';
import { FrameDecoder, MAX_FRAME_BYTES, encodeFrame, parseFrameLine, type DecodeResult } from './index.ts';

// ---------------------------------------------------------------- helpers

/** Feeds `chunks` to a fresh decoder; returns what push() gave and what end() gave. */
function decode(chunks: Uint8Array[], limit = MAX_FRAME_BYTES): { pushed: DecodeResult[]; ended: DecodeResult[] } {
  const decoder = new FrameDecoder(limit);
  const pushed = chunks.flatMap((chunk) => decoder.push(chunk));
  return { pushed, ended: decoder.end() };
}

/**
 * A short, readable summary of results: a frame's type, or `!code`. For example
 * `['ping', '!bad_frame']`.
 */
function summary(results: DecodeResult[]): string[] {
  return results.map((r) => (r.ok ? r.frame.type : `!${r.code}`));
}

/** Whether two result lists agree on everything but `reads` (which depends on the cuts). */
function sameResults(a: DecodeResult[], b: DecodeResult[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i] as DecodeResult;
    if (!x.raw.equals(y.raw)) return false;
    if (x.ok && y.ok) return JSON.stringify(x.frame) === JSON.stringify(y.frame);
    if (!x.ok && !y.ok) return x.code === y.code && x.message === y.message;
    return false;
  });
}

/** A `say` frame line of exactly `total` bytes, terminator included. */
function sayLine(total: number, terminator: '\n' | '\r\n' = '\n'): string {
  const overhead = '{"type":"say","text":""}'.length + terminator.length;
  return `{"type":"say","text":"${'a'.repeat(total - overhead)}"}${terminator}`;
}

const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

// ---------------------------------------------------------------- fixtures

interface Fixture {
  name: string;
  input: Buffer;
  /** Summary of push() results, then of end() results. */
  pushed: string[];
  ended?: string[];
  limit?: number;
}

function fixtures(limit: number): Fixture[] {
  const list: Omit<Fixture, 'limit'>[] = [
    { name: 'one frame', input: bytes('{"type":"ping"}\n'), pushed: ['ping'] },
    { name: 'several frames in one read', input: bytes('{"type":"ping"}\n{"type":"who"}\n{"type":"quit"}\n'), pushed: ['ping', 'who', 'quit'] },
    { name: 'CRLF line endings', input: bytes('{"type":"ping"}\r\n{"type":"quit"}\r\n'), pushed: ['ping', 'quit'] },
    { name: 'empty and blank lines are ignored', input: bytes('\n\r\n   \n\t \r\n{"type":"ping"}\n\n'), pushed: ['ping'] },
    { name: 'extra whitespace around the JSON is fine', input: bytes('  {"type":"ping"}  \n'), pushed: ['ping'] },
    { name: 'emoji and accents (multi-byte UTF-8)', input: bytes('{"type":"say","text":"hello 👋 café"}\n'), pushed: ['say'] },
    { name: 'invalid JSON, then decoding carries on', input: bytes('{"type":"ping"\n{"type":"quit"}\n'), pushed: ['!bad_frame', 'quit'] },
    { name: 'plain text is not JSON', input: bytes('hello\n{"type":"ping"}\n'), pushed: ['!bad_frame', 'ping'] },
    { name: 'invalid UTF-8: lone continuation byte', input: bytes([0x7b, 0x80, 0x7d, 0x0a], '{"type":"ping"}\n'), pushed: ['!bad_frame', 'ping'] },
    { name: 'invalid UTF-8: overlong encoding', input: bytes('{"type":"say","text":"', [0xc0, 0xaf], '"}\n'), pushed: ['!bad_frame'] },
    { name: 'invalid UTF-8: a character cut by the newline', input: bytes('{"type":"say","text":"', [0xf0, 0x9f, 0x91], '\n{"type":"ping"}\n'), pushed: ['!bad_frame', 'ping'] },
    { name: 'invalid UTF-8: UTF-16 surrogate', input: bytes('{"type":"say","text":"', [0xed, 0xa0, 0x80], '"}\n'), pushed: ['!bad_frame'] },
    { name: 'invalid UTF-8: 0xff', input: bytes([0xff], '\n'), pushed: ['!bad_frame'] },
    { name: 'not an object: array', input: bytes('[{"type":"ping"}]\n'), pushed: ['!bad_frame'] },
    { name: 'not an object: string, number, null, true', input: bytes('"ping"\n42\nnull\ntrue\n'), pushed: ['!bad_frame', '!bad_frame', '!bad_frame', '!bad_frame'] },
    { name: 'no type', input: bytes('{}\n{"user":"alice"}\n'), pushed: ['!bad_frame', '!bad_frame'] },
    { name: 'type is not a string', input: bytes('{"type":1}\n{"type":null}\n{"type":["ping"]}\n'), pushed: ['!bad_frame', '!bad_frame', '!bad_frame'] },
    { name: 'unknown type still decodes (validation rejects it later)', input: bytes('{"type":"dance","x":1}\n'), pushed: ['dance'] },
    { name: 'stream ending inside a frame: truncated at end()', input: bytes('{"type":"ping"}\n{"type":"qu'), pushed: ['ping'], ended: ['!bad_frame'] },
    { name: 'stream ending after blank bytes with no newline', input: bytes('{"type":"ping"}\n  '), pushed: ['ping'], ended: ['!bad_frame'] },
    { name: `exactly ${limit} bytes with \\n is accepted`, input: bytes(sayLine(limit), '{"type":"ping"}\n'), pushed: ['say', 'ping'] },
    { name: `exactly ${limit} bytes with \\r\\n is accepted`, input: bytes(sayLine(limit, '\r\n'), '{"type":"ping"}\n'), pushed: ['say', 'ping'] },
    { name: `${limit + 1} bytes with \\n is rejected, then decoding resumes`, input: bytes(sayLine(limit + 1), '{"type":"ping"}\n'), pushed: ['!frame_too_large', 'ping'] },
    { name: `${limit + 1} bytes with \\r\\n is rejected, then decoding resumes`, input: bytes(sayLine(limit + 1, '\r\n'), '{"type":"ping"}\r\n'), pushed: ['!frame_too_large', 'ping'] },
    {
      name: 'oversized blank line is still oversized',
      input: bytes(' '.repeat(limit), '\n{"type":"ping"}\n'),
      pushed: ['!frame_too_large', 'ping'],
    },
    { name: 'oversized with no newline ever: reported, nothing at end()', input: bytes('{"type":"ping"}\n', 'x'.repeat(limit + 5)), pushed: ['ping', '!frame_too_large'], ended: [] },
  ];
  return list.map((fixture) => ({ ...fixture, limit }));
}

const allFixtures = [...fixtures(MAX_FRAME_BYTES), ...fixtures(200)];

// ---------------------------------------------------------------- tests

describe('FrameDecoder fixtures', () => {
  it.each(allFixtures)('limit $limit: $name', ({ input, pushed, ended = [], limit }) => {
    const got = decode([input], limit);
    expect(summary(got.pushed)).toEqual(pushed);
    expect(summary(got.ended)).toEqual(ended);
    for (const result of got.pushed) {
      expect(result.reads).toEqual({ first: 1, last: 1 });
      if (result.ok) expect(result.raw.at(-1)).toBe(0x0a);
    }
  });

  it.each(allFixtures)('limit $limit: $name: identical at every split offset and byte by byte', ({ input, limit }) => {
    const reference = decode([input], limit);
    for (const { label, chunks } of chunkings(input)) {
      const got = decode(chunks, limit);
      if (!sameResults(got.pushed, reference.pushed) || !sameResults(got.ended, reference.ended)) {
        expect.fail(
          `${label}: got ${JSON.stringify(summary(got.pushed))} + end ${JSON.stringify(summary(got.ended))}, whole buffer gave ${JSON.stringify(summary(reference.pushed))} + end ${JSON.stringify(summary(reference.ended))}`,
        );
      }
      for (const result of [...got.pushed, ...got.ended]) {
        if (result.reads.first < 1 || result.reads.first > result.reads.last || result.reads.last > chunks.length) {
          expect.fail(`${label}: impossible reads span ${JSON.stringify(result.reads)}`);
        }
      }
    }
  });
});

describe('FrameDecoder details', () => {
  it('gives the frame fields and exact raw bytes, emoji included', () => {
    const wire = encodeFrame({ type: 'say', text: 'hello 👋', id: 7 });
    const [result] = new FrameDecoder().push(wire);
    expect(result).toEqual({ ok: true, frame: { type: 'say', text: 'hello 👋', id: 7 }, raw: wire, reads: { first: 1, last: 1 } });
  });

  it('keeps unknown fields (validation drops them later)', () => {
    const [result] = new FrameDecoder().push(bytes('{"type":"say","text":"x","from":"mallory"}\n'));
    expect(result?.ok && result.frame).toEqual({ type: 'say', text: 'x', from: 'mallory' });
  });

  it('decodes a multi-byte character split across reads, at every cut inside it', () => {
    const wire = bytes('{"type":"say","text":"👋"}\n');
    const emojiAt = wire.indexOf(Buffer.from('👋'));
    for (let cut = emojiAt + 1; cut < emojiAt + 4; cut++) {
      const decoder = new FrameDecoder();
      expect(decoder.push(wire.subarray(0, cut))).toEqual([]);
      const [result] = decoder.push(wire.subarray(cut));
      expect(result?.ok && result.frame.text).toBe('👋');
    }
  });

  it('reports which reads held each frame', () => {
    const decoder = new FrameDecoder();
    const reads = ['{"type":', '"ping"}\n{"ty', 'pe":"quit"}\n', '\n\n', '{"type":"who"}\n{"type":"ping"}\n', 'oops\n'].map((s) =>
      decoder.push(bytes(s)).map((r) => [r.ok ? r.frame.type : r.code, r.reads]),
    );
    expect(reads).toEqual([
      [],
      [['ping', { first: 1, last: 2 }]],
      [['quit', { first: 2, last: 3 }]],
      [],
      [
        ['who', { first: 5, last: 5 }],
        ['ping', { first: 5, last: 5 }],
      ],
      [['bad_frame', { first: 6, last: 6 }]],
    ]);
  });

  it('reports an oversized frame as soon as the limit is crossed, before any newline', () => {
    const decoder = new FrameDecoder();
    const head = bytes('{"type":"say","text":"');
    expect(decoder.push(head)).toEqual([]);
    expect(decoder.push(Buffer.alloc(MAX_FRAME_BYTES - head.length - 1, 0x61))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(MAX_FRAME_BYTES - 1);
    const [overflow, ...rest] = decoder.push(bytes('a'));
    expect(rest).toEqual([]);
    expect(overflow).toMatchObject({ ok: false, code: 'frame_too_large', reads: { first: 1, last: 3 } });
    expect(overflow?.raw.subarray(0, head.length).equals(head)).toBe(true);
    expect(overflow?.raw.length).toBeLessThanOrEqual(64);
    expect((overflow as { message: string }).message).toContain(String(MAX_FRAME_BYTES));
    expect(decoder.bufferedBytes).toBe(0);
    // The rest of the oversized line is skipped, unbuffered, and decoding resumes after its newline.
    expect(decoder.push(Buffer.alloc(200_000, 0x61))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(0);
    expect(summary(decoder.push(bytes('"}\n{"type":"ping"}\n')))).toEqual(['ping']);
    expect(decoder.end()).toEqual([]);
  });

  it('names its own limit in the frame_too_large message', () => {
    const [result] = new FrameDecoder(100).push(Buffer.alloc(150, 0x61));
    expect(result).toMatchObject({ ok: false, code: 'frame_too_large', message: 'frame exceeds 100 bytes (newline included)' });
  });

  it('end() reports a truncated frame with its bytes and reads, once', () => {
    const decoder = new FrameDecoder();
    decoder.push(bytes('{"type":"ping"}\n{"type":'));
    decoder.push(bytes('"qu'));
    const ended = decoder.end();
    expect(ended).toEqual([{ ok: false, code: 'bad_frame', message: 'stream ended inside a frame (11 bytes without a newline)', raw: bytes('{"type":"qu'), reads: { first: 1, last: 2 } }]);
    expect(decoder.end()).toEqual([]);
  });

  it('end() after a clean stream reports nothing', () => {
    const decoder = new FrameDecoder();
    decoder.push(bytes('{"type":"ping"}\n'));
    expect(decoder.end()).toEqual([]);
  });

  it('messages say what is wrong', () => {
    const messages = decode([bytes('{\n[]\n{"a":1}\n', [0xff], '\n')]).pushed.map((r) => (r.ok ? '' : r.message));
    expect(messages[0]).toMatch(/^frame is not valid JSON \(/);
    expect(messages[1]).toBe('frame must be a JSON object');
    expect(messages[2]).toBe('frame has no string field "type"');
    expect(messages[3]).toBe('frame is not valid UTF-8');
  });
});

describe('a UTF-8 byte order mark (EF BB BF)', () => {
  const BOM = [0xef, 0xbb, 0xbf];

  it('at the start of a line is a bad_frame naming the BOM, and the next line decodes', () => {
    const { pushed } = decode([bytes(BOM, '{"type":"ping","id":1}\n{"type":"ping","id":2}\n')]);
    expect(summary(pushed)).toEqual(['!bad_frame', 'ping']);
    const [bom] = pushed;
    expect(!bom?.ok && bom?.message).toBe('frame starts with a UTF-8 byte order mark (bytes EF BB BF); send JSON without a BOM');
  });

  it('is reported the same after a CRLF, on a blank line and however the reads are cut', () => {
    const stream = bytes('{"type":"ping"}\r\n', BOM, '\r\n', BOM, '{"type":"say","text":"x"}\n');
    for (const { label, chunks } of chunkings(stream)) {
      expect(summary(decode(chunks).pushed), label).toEqual(['ping', '!bad_frame', '!bad_frame']);
    }
  });

  it('inside a string is just the character U+FEFF', () => {
    const { pushed } = decode([bytes('{"type":"say","text":"', BOM, '"}\n')]);
    expect(pushed[0]?.ok && pushed[0].frame.text).toBe('\uFEFF');
  });
});

describe('parseFrameLine', () => {
  const cases: { line: string | number[]; expected: 'blank' | 'frame' | 'error' }[] = [
    { line: '', expected: 'blank' },
    { line: ' \t ', expected: 'blank' },
    { line: '{"type":"ping"}', expected: 'frame' },
    { line: '{"type":""}', expected: 'frame' },
    { line: '{"type":"ping"', expected: 'error' },
    { line: '[]', expected: 'error' },
    { line: [0xc3], expected: 'error' },
    { line: `{"type":"ping","x":${'['.repeat(31)}${']'.repeat(31)}}`, expected: 'frame' },
    { line: `{"type":"ping","x":${'['.repeat(32)}${']'.repeat(32)}}`, expected: 'error' },
    { line: `{"type":"ping","x":"\\\"${'{'.repeat(40)}"}`, expected: 'frame' },
  ];
  it.each(cases)('$line → $expected', ({ line, expected }) => {
    const result = parseFrameLine(typeof line === 'string' ? Buffer.from(line) : Buffer.from(line));
    expect(result === null ? 'blank' : result.ok ? 'frame' : 'error').toBe(expected);
  });
});

// ---------------------------------------------------------------- random bytes

describe('FrameDecoder on random bytes', () => {
  it('never throws, agrees with the whole-buffer result, and recovers after a newline', () => {
    const random = prng(0xc4a7);
    const int = (n: number) => Math.floor(random() * n);
    // Bytes that matter to the parser come up often; the rest is uniform noise.
    const alphabet = Buffer.from('{}[]":,\\ \r\n\n\ntype ping say 0-9 nulltrue');
    const valid = encodeFrame({ type: 'say', text: 'still here 👋' });
    for (let run = 0; run < 3000; run++) {
      const limit = [48, 64, 200, MAX_FRAME_BYTES][run % 4] as number;
      const garbage = Buffer.alloc(int(300));
      for (let i = 0; i < garbage.length; i++) {
        garbage[i] = random() < 0.5 ? (alphabet[int(alphabet.length)] as number) : int(256);
      }
      const stream = Buffer.concat([garbage, Buffer.from('\n'), valid]);
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const size = 1 + int(random() < 0.3 ? 4 : 80);
        chunks.push(stream.subarray(at, at + size));
        at += size;
      }
      const context = `run ${run} (limit ${limit}, garbage ${garbage.toString('hex')})`;
      let got: ReturnType<typeof decode>;
      try {
        got = decode(chunks, limit);
      } catch (error) {
        expect.fail(`${context}: decoder threw ${String(error)}`);
      }
      if (!sameResults(got.pushed, decode([stream], limit).pushed)) expect.fail(`${context}: result depends on the chunking`);
      const last = got.pushed.at(-1);
      if (!last?.ok || !last.raw.equals(valid) || last.frame.text !== 'still here 👋') {
        expect.fail(`${context}: the valid frame after the garbage was not decoded (${JSON.stringify(summary(got.pushed))})`);
      }
      if (got.ended.length !== 0) expect.fail(`${context}: end() reported ${JSON.stringify(summary(got.ended))}`);
      for (const result of got.pushed) {
        if (result.ok && (typeof result.frame.type !== 'string' || result.raw.length > limit)) expect.fail(`${context}: bad ok result`);
        if (!result.ok && result.code !== 'bad_frame' && result.code !== 'frame_too_large') expect.fail(`${context}: code ${result.code}`);
      }
    }
  });
});
