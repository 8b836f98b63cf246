import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { within } from '../../test-support/promises.ts';
import type { FaultOptions, WireEvent } from './events.ts';
import { modelFromEvents } from './export/index.ts';
import { exportMermaid } from './export/mermaid.ts';
import { startInspector } from './inspector.ts';
import type { Row } from './session-model.ts';
import { tlsHandshakeMessage as handshake, tlsRecord as record } from '../../test-support/event-script.ts';
import { describeTlsSegment, TLS_NOTE, tlsLabel, TlsRecordTracker, tlsSummary, type TlsSegment } from './tls-records.ts';

const clientHello = record(0x16, handshake(1, 340), 0x01); // 349 B, like Node's
const appData = (bytes: number): Buffer => record(0x17, bytes);
// A TLS 1.2 server's first flight: ServerHello, Certificate, ServerHelloDone (cut into records anywhere).
const tls12Flight = Buffer.concat([handshake(2, 70), handshake(11, 300), handshake(14, 0)]);

/** Label and summary of each read, fed in order to one tracker that already saw a ClientHello. */
function describeReads(reads: Buffer[]): Array<{ label: string; summary: string } | undefined> {
  const tracker = new TlsRecordTracker();
  tracker.push(clientHello);
  return reads.map((read) => {
    const segments = tracker.push(read);
    return segments && { label: tlsLabel(segments, read.length), summary: tlsSummary(segments) };
  });
}

describe('TLS records in raw chunks', () => {
  it.each([
    { name: 'a ClientHello', reads: [clientHello], label: 'TLS handshake 349 B', summary: '16 03 01 01 58 + 344 B: ClientHello' },
    { name: 'one application data record', reads: [appData(68)], label: 'TLS application data 73 B', summary: '17 03 03 00 44 + 68 B' },
    { name: 'two records in one read', reads: [Buffer.concat([appData(68), appData(68)])], label: 'TLS application data ×2 (146 B)', summary: '17 03 03 00 44 + 68 B | 17 03 03 00 44 + 68 B' },
    { name: 'an alert', reads: [record(0x15, Buffer.from([2, 40]))], label: 'TLS alert 7 B', summary: '15 03 03 00 02 + 2 B' },
    { name: 'change_cipher_spec', reads: [record(0x14, Buffer.from([1]))], label: 'TLS change_cipher_spec 6 B', summary: '14 03 03 00 01 + 1 B' },
    {
      name: 'several types in one read',
      reads: [Buffer.concat([record(0x14, Buffer.from([1])), appData(69)])],
      label: 'TLS change_cipher_spec + application data (80 B)',
      summary: '14 03 03 00 01 + 1 B | 17 03 03 00 45 + 69 B',
    },
    {
      name: 'a ServerHello flight',
      reads: [Buffer.concat([record(0x16, handshake(2, 118)), record(0x14, Buffer.from([1])), appData(23), appData(23)])],
      label: 'TLS handshake + change_cipher_spec + application data ×2 (189 B)',
      summary: '16 03 03 00 7A + 122 B: ServerHello | 14 03 03 00 01 + 1 B | 17 03 03 00 17 + 23 B | 17 03 03 00 17 + 23 B',
    },
    {
      name: 'a record split over three reads, header cut too',
      reads: [appData(1000).subarray(0, 3), appData(1000).subarray(3, 400), appData(1000).subarray(400)],
      label: ['TLS application data 3 B', 'TLS application data (cont.) 397 B', 'TLS application data (cont.) 605 B'],
      summary: ['17 03 03… (header cut)', '…03 E8 + 395 B (of 1000)', '… + 605 B (of 1000)'],
    },
    {
      name: 'the end of one record and the start of the next',
      reads: [appData(100).subarray(0, 50), Buffer.concat([appData(100).subarray(50), appData(30).subarray(0, 20)])],
      label: ['TLS application data 50 B', 'TLS application data (cont.) + application data (75 B)'],
      summary: ['17 03 03 00 64 + 45 B (of 100)', '… + 55 B (of 100) | 17 03 03 00 1E + 15 B (of 30)'],
    },
    {
      name: 'TLS 1.2 handshake messages spanning records',
      reads: [Buffer.concat([record(0x16, tls12Flight.subarray(0, 150)), record(0x16, tls12Flight.subarray(150))])],
      label: 'TLS handshake ×2 (392 B)',
      summary: '16 03 03 00 96 + 150 B: ServerHello, Certificate | 16 03 03 00 E8 + 232 B: ServerHelloDone',
    },
    {
      // In TLS 1.2 the Finished after change_cipher_spec is encrypted: its first byte is not a message type.
      name: 'handshake records after change_cipher_spec (encrypted in TLS 1.2)',
      reads: [Buffer.concat([record(0x14, Buffer.from([1])), record(0x16, handshake(20, 12))])],
      label: 'TLS change_cipher_spec + handshake (27 B)',
      summary: '14 03 03 00 01 + 1 B | 16 03 03 00 10 + 16 B',
    },
  ])('$name', ({ reads, label, summary }) => {
    const described = describeReads(reads);
    expect(described.map((d) => d?.label)).toEqual([label].flat());
    expect(described.map((d) => d?.summary)).toEqual([summary].flat());
  });

  it.each([
    { name: 'a chatlab/1 frame', bytes: Buffer.from('{"type":"hello","protocol":"chatlab/1"}\n') },
    { name: 'an unknown content type', bytes: Buffer.from([0x18, 0x03, 0x03, 0x00, 0x01, 0x00]) },
    { name: 'a version that is not 03 00–03 04', bytes: Buffer.from([0x17, 0x03, 0x05, 0x00, 0x01, 0x00]) },
    { name: 'a record longer than TLS allows', bytes: Buffer.from([0x17, 0x03, 0x03, 0x48, 0x01, 0x00]) },
    { name: 'a good record followed by garbage', bytes: Buffer.concat([clientHello, Buffer.from('GET / HTTP/1.1\r\n')]) },
    // A binary protocol whose first bytes look like a record header, but whose stream does not start like TLS:
    { name: 'a handshake record that holds no hello', bytes: Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00]) },
    { name: 'application data before any handshake', bytes: appData(20) },
    { name: 'change_cipher_spec before any handshake', bytes: record(0x14, Buffer.from([1])) },
    { name: 'an alert of the wrong size', bytes: record(0x15, 3) },
  ])('is not fooled by $name, and stays off', ({ bytes }) => {
    const tracker = new TlsRecordTracker();
    expect(tracker.push(bytes)).toBeUndefined();
    expect(tracker.push(clientHello)).toBeUndefined();
    expect(tracker.isTls).toBe(false);
  });

  it.each([
    { name: 'a ClientHello', bytes: clientHello, label: 'TLS handshake 349 B' },
    { name: 'a ServerHello', bytes: record(0x16, handshake(2, 118)), label: 'TLS handshake 127 B' },
    { name: 'an alert (a server refusing at once)', bytes: record(0x15, Buffer.from([2, 70])), label: 'TLS alert 7 B' },
  ])('takes a stream that starts with $name for TLS', ({ bytes, label }) => {
    const tracker = new TlsRecordTracker();
    const segments = tracker.push(bytes);
    expect(segments && tlsLabel(segments, bytes.length)).toBe(label);
    expect(tracker.isTls).toBe(true);
  });

  it('accounts for every byte at every cut of a real-shaped stream', () => {
    const records = [clientHello, record(0x16, handshake(2, 118)), record(0x14, Buffer.from([1])), appData(23), appData(600), appData(0), appData(17_000), record(0x15, 2)];
    const stream = Buffer.concat(records);
    for (const size of [1, 2, 3, 4, 5, 6, 7, 13, 64, 349, 1000, 4096]) {
      const tracker = new TlsRecordTracker();
      const segments: TlsSegment[] = [];
      for (let offset = 0; offset < stream.length; offset += size) {
        const read = stream.subarray(offset, offset + size);
        const got = tracker.push(read);
        expect(got, `read at ${offset}, size ${size}`).toBeDefined();
        expect((got as TlsSegment[]).reduce((n, s) => n + s.bytes, 0)).toBe(read.length);
        segments.push(...(got as TlsSegment[]));
      }
      const starts = segments.filter((s) => s.start === 0);
      expect(
        starts.map((s) => s.type),
        `size ${size}`,
      ).toEqual(records.map((r) => r[0]));
      expect(segments.filter((s) => s.complete).map((s) => s.length)).toEqual(records.map((r) => r.length - 5));
      expect(
        segments.filter((s) => s.handshake).map((s) => s.handshake),
        `size ${size}`,
      ).toEqual([['ClientHello'], ['ServerHello']]);
    }
  });

  it('after lost bytes, picks up again at the next read that starts a record', () => {
    const tracker = new TlsRecordTracker();
    expect(tracker.push(clientHello)).toHaveLength(1);
    expect(tracker.push(appData(1000).subarray(0, 100))).toHaveLength(1);
    tracker.resync();
    expect(tracker.push(Buffer.alloc(50, 0x99)), 'ciphertext in the middle of a record').toBeUndefined();
    const again = tracker.push(appData(20));
    expect(again?.map(describeTlsSegment)).toEqual(['17 03 03 00 14 + 20 B']);
    expect(tracker.isTls).toBe(true);
  });
});

// ---- a real TLS handshake and chat through the inspector, with the lesson 13 demo certificate

const lessonDir = join(import.meta.dirname, '..', '..', 'lessons', '13-tls');
const key = readFileSync(join(lessonDir, 'demo-key.pem'));
const cert = readFileSync(join(lessonDir, 'demo-cert.pem'));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A chatlab-ish TLS server: says hello inside TLS, answers each line with an ok. */
async function startTlsServer(): Promise<number> {
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ key, cert }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.write('{"type":"hello","protocol":"chatlab/1"}\n');
    socket.on('data', () => socket.write('{"type":"ok"}\n'));
    socket.on('end', () => socket.end());
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as { port: number }).port;
}

/** A TLS client through the inspector: handshake (pinned demo certificate), hello, one line, ok, close. */
async function chatOverTls(port: number): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: cert });
  cleanups.push(() => void socket.destroy());
  let received = '';
  const waiting: Array<{ count: number; resolve: () => void }> = [];
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    received += text;
    for (const w of waiting) if (received.split('\n').length > w.count) w.resolve();
  });
  const failed = new Promise<never>((_, reject) => socket.once('error', reject));
  const lines = (count: number): Promise<void> => Promise.race([new Promise<void>((resolve) => waiting.push({ count, resolve })), failed]);
  const hello = lines(1);
  await within(hello, 5_000, 'the hello inside TLS');
  const ok = lines(2);
  socket.write('{"type":"login","user":"alice","password":"wonderland"}\n');
  await within(ok, 5_000, 'the answer inside TLS');
  socket.end();
  await within(new Promise((resolve) => socket.once('close', resolve)), 5_000, 'the TLS client to close');
  return received;
}

async function inspectTlsChat(faults?: FaultOptions) {
  const target = await startTlsServer();
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  const events: WireEvent[] = [];
  const inspector = await startInspector({ target: { host: '127.0.0.1', port: target }, view: 'plain', output: out, color: false, faults, sinks: [{ applied: (event) => void events.push(event) }] });
  cleanups.push(() => inspector.stop());
  const received = await chatOverTls(inspector.address.port);
  await inspector.waitFor((m) => m.counters.connections === 1 && m.counters.open === 0, 5_000, 'the TLS connection to close on both sides');
  await inspector.stop();
  await inspector.plain?.flushed();
  return { model: inspector.model, received, printed, events };
}

const chunkRows = (rows: Row[]): Row[] => rows.filter((r) => r.kind === 'chunk');

describe('a real TLS session through the inspector', () => {
  it('labels every read as TLS records, names the hellos and notes once that the frames are encrypted', async () => {
    const { model, received, printed, events } = await inspectTlsChat();
    expect(received).toBe('{"type":"hello","protocol":"chatlab/1"}\n{"type":"ok"}\n');
    expect(model.connectionFraming(1)).toBe('raw');
    expect(model.isTlsConnection(1)).toBe(true);
    const chunks = chunkRows(model.rows);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const row of chunks) expect(row.label, row.summary).toMatch(/^TLS [a-z_ ]+(?: ×\d+)?(?: \d+ B|.* \(\d+ B\))$/);
    const first = { c2s: chunks.find((r) => r.dir === 'c2s'), s2c: chunks.find((r) => r.dir === 's2c') };
    expect(first.c2s?.label).toMatch(/^TLS handshake \d+ B$/);
    expect(first.c2s?.summary).toMatch(/^16 03 01 [0-9A-F]{2} [0-9A-F]{2} \+ \d+ B: ClientHello$/);
    expect(first.s2c?.summary).toMatch(/^16 03 03 [0-9A-F ]{5} \+ \d+ B: ServerHello/);
    // The ciphertext never reaches a label or summary: only headers and sizes.
    for (const row of chunks) {
      for (const part of row.summary.split(' | '))
        expect(part, row.summary).toMatch(/^…?(?:[0-9A-F]{2}(?: [0-9A-F]{2})*)?(?:… \(header cut\)| \+ \d+ B(?: \(of \d+\))?(?:: [A-Za-z]+(?:, [A-Za-z]+)*)?)$/);
    }

    const notes = model.rows.filter((r) => r.kind === 'tls');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ conn: 1, from: 1, to: 1, label: 'TLS', summary: TLS_NOTE, step: null });
    expect(model.rows.indexOf(notes[0] as Row)).toBe(model.rows.indexOf(first.c2s as Row) + 1);
    expect(model.steps.filter((s) => s.seen).map((s) => s.step)).toEqual([1, 2, 10]);

    expect(printed.split('\n').filter((line) => line.includes(TLS_NOTE))).toHaveLength(1);
    expect(printed).toMatch(/TLS handshake \d+ B 16 03 01/);

    // The Mermaid export: hex and sizes need no escaping; only the note's `;` is escaped.
    const mermaid = exportMermaid(model);
    const tlsLines = mermaid.split('\n').filter((line) => line.includes(': TLS '));
    expect(tlsLines).toHaveLength(chunks.length);
    for (const line of tlsLines) expect(line).not.toMatch(/#lt;|#gt;|#59;|#35;|#37;|#quot;|\\x/);
    expect(mermaid).toContain('    Note over C1: TLS: the frames inside are encrypted#59; the 10-step checklist cannot see them\n');

    // A replay of the recorded events draws the same rows.
    const replayed = modelFromEvents(events);
    expect(replayed.rows.map((r) => `${r.kind} ${r.label} ${r.summary}`)).toEqual(model.rows.map((r) => `${r.kind} ${r.label} ${r.summary}`));
  });

  it('follows records cut into 7-byte pieces (--fragment 7)', async () => {
    const { model, received } = await inspectTlsChat({ fragment: 7 });
    expect(received).toBe('{"type":"hello","protocol":"chatlab/1"}\n{"type":"ok"}\n');
    const chunks = chunkRows(model.rows);
    for (const row of chunks) expect(row.label).toMatch(/^TLS /);
    for (const dir of ['c2s', 's2c'] as const) {
      const segments = chunks.filter((r) => r.dir === dir).flatMap((r) => (r.item?.kind === 'chunk' ? (r.item.tls ?? []) : []));
      const whole = segments.filter((s) => s.complete).reduce((n, s) => n + 5 + (s.length as number), 0);
      // Every forwarded byte belongs to a record that was followed to its end.
      expect(whole, dir).toBe(model.counters.bytes[dir]);
    }
    expect(chunks.some((r) => r.label.includes('(cont.)'))).toBe(true);
    expect(model.rows.filter((r) => r.kind === 'tls')).toHaveLength(1);
  });
});
