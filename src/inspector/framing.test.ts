import { describe, expect, it } from 'vitest';
import { ConnectionFramer, detectFraming, type FramedItem } from './framing.ts';
import { tlsHandshakeMessage, tlsRecord } from '../../test-support/event-script.ts';

const b = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Feeds reads of one direction (read numbers from 1, t = 100 × read) and collects the items. */
function feed(framer: ConnectionFramer, dir: 'c2s' | 's2c', reads: Array<string | Buffer>): FramedItem[] {
  const items: FramedItem[] = [];
  reads.forEach((chunk, i) => items.push(...framer.push(dir, typeof chunk === 'string' ? b(chunk) : chunk, i + 1, (i + 1) * 100).items));
  return items;
}

describe('ConnectionFramer, chatlab framing', () => {
  it('reassembles a frame split over reads and knows how many bytes each read gave', () => {
    const framer = new ConnectionFramer('chatlab');
    const items = feed(framer, 'c2s', ['{"type":"say","te', 'xt":"hi 👋"}\n{"type":"quit"}\n{"ty', 'pe":"ping"}\n']);
    expect(items.map((i) => (i.kind === 'frame' ? i.frame.type : i.kind))).toEqual(['say', 'quit', 'ping']);
    const [say, quit, ping] = items as [FramedItem, FramedItem, FramedItem];
    expect(say.raw.toString()).toBe('{"type":"say","text":"hi 👋"}\n');
    expect(say.parts).toEqual([
      { read: 1, t: 100, bytes: 17 },
      { read: 2, t: 200, bytes: say.raw.length - 17 },
    ]);
    expect(quit.parts).toEqual([{ read: 2, t: 200, bytes: 16 }]);
    expect(ping.parts).toEqual([
      { read: 2, t: 200, bytes: 4 },
      { read: 3, t: 300, bytes: 12 },
    ]);
  });

  it('reports what each read did (the --show-reads view)', () => {
    const framer = new ConnectionFramer('chatlab');
    const first = framer.push('s2c', b('{"type":"hel'), 1, 1);
    expect(first.reads).toEqual([{ dir: 's2c', read: 1, t: 1, bytes: 12, completed: 0, finishesEarlier: false, held: 12 }]);
    const second = framer.push('s2c', b('lo"}\n{"type":"bye"}\n{"t'), 2, 2);
    expect(second.reads[0]).toMatchObject({ read: 2, completed: 2, finishesEarlier: true, held: 3 });
  });

  it('keeps blank lines out of the diagram but in the byte accounting, and tolerates \\r\\n', () => {
    const framer = new ConnectionFramer('chatlab');
    const items = feed(framer, 'c2s', ['\n\r\n{"type":"a"}\r\n', '\n{"type":"b"}\n']);
    expect(items.map((i) => i.kind === 'frame' && i.frame.type)).toEqual(['a', 'b']);
    expect(items[0]?.raw.toString()).toBe('{"type":"a"}\r\n');
    expect(items[1]?.parts).toEqual([{ read: 2, t: 200, bytes: 13 }]);
  });

  it('turns bad lines into bad items and goes on', () => {
    const framer = new ConnectionFramer('chatlab');
    const items = feed(framer, 'c2s', ['not json\n[1,2]\n{"no":"type"}\n{"type":"ok"}\n']);
    expect(items.map((i) => (i.kind === 'bad' ? i.code : i.kind))).toEqual(['bad_frame', 'bad_frame', 'bad_frame', 'frame']);
    expect(items[0]?.kind === 'bad' && items[0].message).toMatch(/not valid JSON/);
  });

  it('reports a frame over 65,536 bytes as frame_too_large and resynchronises after its newline', () => {
    const framer = new ConnectionFramer('chatlab');
    const big = '{"type":"say","text":"' + 'x'.repeat(70_000) + '"}\n';
    const items = feed(framer, 'c2s', [big.slice(0, 40_000), big.slice(40_000) + '{"type":"quit"}\n']);
    expect(items.map((i) => (i.kind === 'bad' ? i.code : i.kind === 'frame' ? i.frame.type : i.kind))).toEqual(['frame_too_large', 'quit']);
    expect(items[1]?.parts).toEqual([{ read: 2, t: 200, bytes: 16 }]);
  });

  it('reports a frame cut off by the end of the stream', () => {
    const framer = new ConnectionFramer('chatlab');
    feed(framer, 'c2s', ['{"type":"say"']);
    const ended = framer.end('c2s').items;
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ kind: 'bad', code: 'bad_frame' });
    expect(ended[0]?.kind === 'bad' && ended[0].message).toMatch(/stream ended inside a frame \(13 bytes/);
  });

  it('after a gap skips to the next newline instead of showing half a frame as garbage', () => {
    const framer = new ConnectionFramer('chatlab');
    feed(framer, 'c2s', ['{"type":"a"}\n{"type":"lo']);
    framer.gap('c2s');
    const items = framer.push('c2s', b('st tail"}\n{"type":"b"}\n'), 9, 900).items;
    expect(items.map((i) => i.kind === 'frame' && i.frame.type)).toEqual(['b']);
  });
});

describe('ConnectionFramer, lines and raw', () => {
  it('lines: every line is an item with its text, blank ones included', () => {
    const framer = new ConnectionFramer('lines');
    const items = feed(framer, 's2c', ['+OK ready\r\n', '\r\nPING :x', 'yz\r\n']);
    expect(items.map((i) => i.kind === 'line' && i.text)).toEqual(['+OK ready', '', 'PING :xyz']);
    expect(items[2]?.parts.map((p) => p.read)).toEqual([2, 3]);
  });

  it('raw: one chunk per read, bytes untouched', () => {
    const framer = new ConnectionFramer('raw');
    const bytes = Buffer.from([0, 1, 2, 0xff, 0x0a, 0x7b]);
    const items = feed(framer, 'c2s', [bytes, b('x')]);
    expect(items.map((i) => i.kind)).toEqual(['chunk', 'chunk']);
    expect(items[0]?.raw.equals(bytes)).toBe(true);
  });
});

describe('ConnectionFramer, TLS records', () => {
  it('auto: a ClientHello means raw framing, and each chunk carries its TLS records', () => {
    const framer = new ConnectionFramer('auto');
    const hello = tlsRecord(0x16, tlsHandshakeMessage(1, 100), 0x01);
    const items = feed(framer, 'c2s', [hello.subarray(0, 60), Buffer.concat([hello.subarray(60), tlsRecord(0x17, 20)])]);
    expect(framer.mode).toBe('raw');
    expect(items.map((i) => (i.kind === 'chunk' ? i.tls?.map((s) => `${s.type.toString(16)}@${s.start}+${s.bytes}${s.complete ? '' : '…'}`) : i.kind))).toEqual([
      ['16@0+60…'],
      ['16@60+49', '17@0+25'],
    ]);
  });

  it('raw bytes that are not TLS carry no records', () => {
    const framer = new ConnectionFramer('raw');
    const items = feed(framer, 's2c', [Buffer.from([0x17, 0x03, 0x09, 0, 1, 0]), tlsRecord(0x17, 3)]);
    expect(items.map((i) => i.kind === 'chunk' && i.tls)).toEqual([undefined, undefined]);
  });
});

describe('detectFraming and auto mode', () => {
  it('recognises chatlab/1, line protocols and binary data', () => {
    expect(detectFraming(b('{"type":"hello","protocol":"chatlab/1"}\n'))).toBe('chatlab');
    expect(detectFraming(b('{"type":"hel'))).toBeUndefined();
    expect(detectFraming(b(':irc.example 001 alice :Welcome\r\n'))).toBe('lines');
    expect(detectFraming(b('220 smtp.example ESMTP'))).toBeUndefined();
    expect(detectFraming(b('{not json at all}\n'))).toBe('lines');
    expect(detectFraming(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]))).toBe('raw');
    expect(detectFraming(b('x'.repeat(5000)))).toBe('raw');
    expect(detectFraming(b('PING'), true)).toBe('lines');
  });

  it('holds bytes until it can tell, then replays them with their read numbers', () => {
    const framer = new ConnectionFramer('auto');
    expect(framer.push('s2c', b('{"type":"hello",'), 1, 10).items).toEqual([]);
    expect(framer.mode).toBeUndefined();
    const items = framer.push('s2c', b('"protocol":"chatlab/1"}\n'), 2, 20).items;
    expect(framer.mode).toBe('chatlab');
    expect(items).toHaveLength(1);
    expect(items[0]?.parts).toEqual([
      { read: 1, t: 10, bytes: 16 },
      { read: 2, t: 20, bytes: 24 },
    ]);
  });

  it('decides on the first direction that can tell and frames the other the same way', () => {
    const framer = new ConnectionFramer('auto');
    const items = framer.push('c2s', b('NICK alice\r\nUSER a 0 * :A'), 1, 1).items;
    expect(framer.mode).toBe('lines');
    items.push(...framer.push('s2c', b(':srv 001 alice :hi\r\n'), 1, 2).items);
    expect(items.map((i) => [i.dir, i.kind === 'line' && i.text])).toEqual([
      ['c2s', 'NICK alice'],
      ['s2c', ':srv 001 alice :hi'],
    ]);
  });
});
