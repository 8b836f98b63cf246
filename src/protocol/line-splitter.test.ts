import { describe, expect, it } from 'vitest';
import { chunkings } from '../../test-support/chunkings.ts';
import { LineSplitter, MAX_FRAME_BYTES, type LineItem } from './index.ts';

// ---------------------------------------------------------------- helpers

/** What a test expects of one item: the text of a line, an overflow with its head, or a truncated tail. */
type Expected = { line: string; raw?: string } | { overflow: string } | { truncated: string };

/** Feeds `chunks` to a fresh splitter, then ends it; returns every item in order. */
function split(chunks: Buffer[], limit = MAX_FRAME_BYTES): { items: LineItem[]; ended: LineItem[] } {
  const splitter = new LineSplitter(limit);
  const items = chunks.flatMap((chunk) => splitter.push(chunk));
  return { items, ended: splitter.end() };
}

/**
 * Whether two item lists say the same thing. `reads` (and how far an overflow had got when it was
 * noticed, `byteLength`) depend on where the reads were cut, so they are checked elsewhere.
 */
function sameItems(a: LineItem[], b: LineItem[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i] as LineItem;
    if (x.kind !== y.kind) return false;
    if (x.kind === 'line' && y.kind === 'line') return x.line.equals(y.line) && x.raw.equals(y.raw);
    if (x.kind === 'overflow' && y.kind === 'overflow') return x.head.equals(y.head);
    if (x.kind === 'truncated' && y.kind === 'truncated') return x.raw.equals(y.raw);
    return false;
  });
}

function describeItems(items: LineItem[]): Expected[] {
  return items.map((item) => {
    if (item.kind === 'line') return { line: item.line.toString('latin1'), raw: item.raw.toString('latin1') };
    if (item.kind === 'overflow') return { overflow: item.head.toString('latin1') };
    return { truncated: item.raw.toString('latin1') };
  });
}

/** A line of exactly `total` bytes, terminator included. */
function lineOf(total: number, terminator: '\n' | '\r\n' = '\n'): string {
  return 'x'.repeat(total - terminator.length) + terminator;
}

// ---------------------------------------------------------------- fixtures

interface Fixture {
  name: string;
  input: string | Buffer;
  /** Items from push() (and, for `truncated`, from end()). `raw` defaults to line + '\n'. */
  expect: Expected[];
  limit?: number;
}

const head64 = 'x'.repeat(64);

/** The fixtures, built for a given line limit (the real one, and a small one to try every offset). */
function fixtures(limit: number): Fixture[] {
  return [
    { name: 'one line', input: 'hello\n', expect: [{ line: 'hello' }] },
    { name: 'several lines in one read', input: 'a\nbb\nccc\n', expect: [{ line: 'a' }, { line: 'bb' }, { line: 'ccc' }] },
    {
      name: 'CRLF: the \\r is not part of the line, but is in raw',
      input: 'a\r\nb\r\n',
      expect: [
        { line: 'a', raw: 'a\r\n' },
        { line: 'b', raw: 'b\r\n' },
      ],
    },
    { name: 'a lone \\r inside a line is kept', input: 'a\rb\n', expect: [{ line: 'a\rb' }] },
    { name: 'only the last \\r is stripped', input: 'a\r\r\n', expect: [{ line: 'a\r', raw: 'a\r\r\n' }] },
    {
      name: 'empty lines are items (the decoder skips them)',
      input: '\n\r\n',
      expect: [
        { line: '', raw: '\n' },
        { line: '', raw: '\r\n' },
      ],
    },
    { name: 'a tail without newline is truncated at end()', input: 'a\nbc', expect: [{ line: 'a' }, { truncated: 'bc' }] },
    { name: 'empty stream', input: '', expect: [] },
    { name: 'UTF-8 bytes pass through untouched', input: Buffer.from('👋é\n', 'utf8'), expect: [{ line: Buffer.from('👋é', 'utf8').toString('latin1') }] },
    { name: `exactly ${limit} bytes with \\n is accepted`, input: lineOf(limit) + 'ok\n', expect: [{ line: lineOf(limit).slice(0, -1) }, { line: 'ok' }] },
    {
      name: `exactly ${limit} bytes with \\r\\n is accepted`,
      input: lineOf(limit, '\r\n') + 'ok\n',
      expect: [{ line: lineOf(limit, '\r\n').slice(0, -2), raw: lineOf(limit, '\r\n') }, { line: 'ok' }],
    },
    { name: `${limit + 1} bytes with \\n overflows, then splitting resumes`, input: lineOf(limit + 1) + 'ok\n', expect: [{ overflow: head64 }, { line: 'ok' }] },
    {
      name: `${limit + 1} bytes with \\r\\n overflows, then splitting resumes`,
      input: lineOf(limit + 1, '\r\n') + 'ok\r\n',
      expect: [{ overflow: head64 }, { line: 'ok', raw: 'ok\r\n' }],
    },
    { name: 'far over the limit, then two good lines', input: lineOf(3 * limit) + 'a\nb\n', expect: [{ overflow: head64 }, { line: 'a' }, { line: 'b' }] },
    { name: 'an oversized tail with no newline ever: overflow, nothing at end()', input: 'a\n' + 'x'.repeat(limit), expect: [{ line: 'a' }, { overflow: head64 }] },
    { name: 'one byte short of overflowing, no newline: truncated at end()', input: 'x'.repeat(limit - 1), expect: [{ truncated: 'x'.repeat(limit - 1) }] },
  ].map((fixture) => ({ ...fixture, limit }));
}

/** Limits smaller than the 64-byte head: the head never includes the newline. */
const tinyLimitFixtures: Fixture[] = [
  { name: 'a 4-byte line fits a 4-byte limit', limit: 4, input: 'abc\nabcd\nok\n', expect: [{ line: 'abc' }, { overflow: 'abcd' }, { line: 'ok' }] },
  { name: 'two oversized lines in a row', limit: 4, input: 'abcdef\nghijkl\nok\n', expect: [{ overflow: 'abcd' }, { overflow: 'ghij' }, { line: 'ok' }] },
  { name: 'oversized by its \\r\\n only', limit: 4, input: 'abc\r\nok\n', expect: [{ overflow: 'abc\r' }, { line: 'ok' }] },
];

const allFixtures = [...fixtures(MAX_FRAME_BYTES), ...fixtures(100), ...tinyLimitFixtures];

// ---------------------------------------------------------------- tests

describe('LineSplitter fixtures', () => {
  it.each(allFixtures)('limit $limit: $name', ({ input, expect: expected, limit }) => {
    const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1');
    const whole = split([bytes], limit);
    const withDefaults = expected.map((e) => ('line' in e ? { line: e.line, raw: e.raw ?? e.line + '\n' } : e));
    expect(describeItems([...whole.items, ...whole.ended])).toEqual(withDefaults);
  });

  it.each(allFixtures)('limit $limit: $name: same items at every split offset and byte by byte', ({ input, limit }) => {
    const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1');
    const reference = split([bytes], limit);
    for (const { label, chunks } of chunkings(bytes, { whole: true })) {
      const got = split(chunks, limit);
      if (!sameItems(got.items, reference.items) || !sameItems(got.ended, reference.ended)) {
        expect.fail(`${label}: ${JSON.stringify(describeItems(got.items)).slice(0, 300)} differs from the whole-buffer result`);
      }
      for (const item of got.items) {
        if (item.kind === 'overflow') expect(item.byteLength).toBeGreaterThanOrEqual(limit ?? MAX_FRAME_BYTES);
      }
    }
  });
});

describe('LineSplitter overflow', () => {
  it('reports overflow as soon as the limit is reached without a newline, holding nothing', () => {
    const splitter = new LineSplitter(MAX_FRAME_BYTES);
    expect(splitter.push(Buffer.alloc(MAX_FRAME_BYTES - 1, 0x61))).toEqual([]);
    expect(splitter.bufferedBytes).toBe(MAX_FRAME_BYTES - 1);
    // One more byte, still no newline: the line can no longer fit once its newline comes.
    const [item, ...rest] = splitter.push(Buffer.from('a'));
    expect(rest).toEqual([]);
    expect(item).toMatchObject({ kind: 'overflow', byteLength: MAX_FRAME_BYTES, reads: { first: 1, last: 2 } });
    expect(splitter.bufferedBytes).toBe(0);
    // The rest of the oversized line is skipped without being buffered.
    expect(splitter.push(Buffer.alloc(100_000, 0x62))).toEqual([]);
    expect(splitter.bufferedBytes).toBe(0);
    const after = splitter.push(Buffer.from('bbb\nok\n'));
    expect(describeItems(after)).toEqual([{ line: 'ok', raw: 'ok\n' }]);
    expect(after[0]?.reads).toEqual({ first: 4, last: 4 });
    expect(splitter.end()).toEqual([]);
  });

  it('reports the overflow with the newline in the same read, then the next line', () => {
    const splitter = new LineSplitter(8);
    const items = splitter.push(Buffer.from('0123456789\nok\n'));
    expect(items.map((i) => i.kind)).toEqual(['overflow', 'line']);
    expect(items[0]).toMatchObject({ kind: 'overflow', byteLength: 11 });
    expect((items[0] as { head: Buffer }).head.toString()).toBe('01234567');
  });

  it('keeps the head of an overflow to 64 bytes and copies it out of the read buffer', () => {
    const chunk = Buffer.alloc(MAX_FRAME_BYTES + 10, 0x61);
    const [item] = new LineSplitter().push(chunk);
    expect(item?.kind).toBe('overflow');
    const head = (item as { head: Buffer }).head;
    expect(head.length).toBe(64);
    chunk.fill(0x7a);
    expect(head.toString()).toBe('a'.repeat(64));
  });
});

describe('LineSplitter reads spans', () => {
  it('numbers reads from 1 and spans the reads that held each line', () => {
    const splitter = new LineSplitter();
    const reads = ['ab', 'c\nde', 'f\ng', '', 'h\n', 'i\nj\n', 'tail'].map((s) => splitter.push(Buffer.from(s)));
    const spans = reads.map((items) => items.map((i) => (i.kind === 'line' ? [i.line.toString(), i.reads] : i.kind)));
    expect(spans).toEqual([
      [],
      [['abc', { first: 1, last: 2 }]],
      [['def', { first: 2, last: 3 }]],
      [],
      [['gh', { first: 3, last: 5 }]],
      [
        ['i', { first: 6, last: 6 }],
        ['j', { first: 6, last: 6 }],
      ],
      [],
    ]);
    expect(splitter.end()).toMatchObject([{ kind: 'truncated', reads: { first: 7, last: 7 } }]);
    expect(splitter.end()).toEqual([]);
  });

  it('a line that starts exactly at a read boundary starts at that read', () => {
    const splitter = new LineSplitter();
    splitter.push(Buffer.from('a\n'));
    expect(splitter.push(Buffer.from('b\n'))[0]?.reads).toEqual({ first: 2, last: 2 });
  });

  it('does not pin the read buffer: a held partial line is a copy', () => {
    const splitter = new LineSplitter();
    const chunk = Buffer.from('abc');
    splitter.push(chunk);
    chunk.fill(0x7a);
    expect(describeItems(splitter.push(Buffer.from('\n')))).toEqual([{ line: 'abc', raw: 'abc\n' }]);
  });

  it('shows the bytes held for an unfinished line, across reads, and none once it ends', () => {
    const splitter = new LineSplitter();
    expect(splitter.pendingLine()).toEqual(Buffer.alloc(0));
    splitter.push(Buffer.from('done\n{"ty'));
    splitter.push(Buffer.from('pe":'));
    expect(splitter.pendingLine().toString()).toBe('{"type":');
    splitter.push(Buffer.from('"x"}\n'));
    expect(splitter.pendingLine()).toEqual(Buffer.alloc(0));
  });

  it('accepts a plain Uint8Array view into a larger buffer', () => {
    const backing = new Uint8Array(Buffer.from('XXhi\nYY'));
    const items = new LineSplitter().push(backing.subarray(2, 5));
    expect(describeItems(items)).toEqual([{ line: 'hi', raw: 'hi\n' }]);
  });
});
