import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportModel, modelFromEvents } from '../export/index.ts';
import { readTrace } from '../trace.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { startInspector, type Inspector } from '../inspector.ts';
import type { FaultOptions } from '../events.ts';
import type { SessionModel } from '../session-model.ts';

/** A UDP server that keeps every datagram it gets and answers each with `reply(bytes)`. */
async function udpServer(reply: (bytes: Buffer) => Buffer | null) {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (bytes, from) => {
    received.push(bytes);
    for (const wake of waiters.splice(0)) wake();
    const answer = reply(bytes);
    if (answer) socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    received,
    /** Resolves once `count` datagrams have arrived. */
    async got(count: number): Promise<void> {
      while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

async function udpClient() {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (bytes) => {
    received.push(bytes);
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    socket,
    received,
    async got(count: number): Promise<void> {
      while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tap(targetPort: number, faults: FaultOptions = {}): Promise<Inspector> {
  const inspector = await startInspector({ transport: 'udp', target: { host: '127.0.0.1', port: targetPort }, faults, view: 'none' });
  cleanups.push(() => inspector.stop());
  return inspector;
}

function datagramRows(model: SessionModel) {
  return model.rows.filter((row) => row.kind === 'frame' || row.kind === 'lost' || row.kind === 'bad');
}

describe('the UDP tap', () => {
  it('forwards every datagram byte-exact both ways when no fault is on, one arrow each', async () => {
    const server = await udpServer((bytes) => Buffer.concat([Buffer.from('re:'), bytes]));
    cleanups.push(server.close);
    const inspector = await tap(server.port);
    const client = await udpClient();
    cleanups.push(client.close);
    const sent = [Buffer.from('{"type":"login","user":"alice","password":"wonderland"}'), Buffer.from([0xff, 0x00, 0x0a, 0xc3]), Buffer.from('{"type":"say","text":"héllo 👋"}\n')];
    for (const bytes of sent) {
      client.socket.send(bytes, inspector.address.port, '127.0.0.1');
      await client.got(client.received.length + 1);
    }
    expect(server.received).toEqual(sent);
    expect(client.received).toEqual(sent.map((bytes) => Buffer.concat([Buffer.from('re:'), bytes])));
    await inspector.waitFor((model) => datagramRows(model).length === 6, 2_000, 'six datagram rows');
    const rows = datagramRows(inspector.model);
    expect(rows.map((row) => [row.dir, row.kind])).toEqual([
      ['c2s', 'frame'],
      ['s2c', 'bad'],
      ['c2s', 'bad'],
      ['s2c', 'bad'],
      ['c2s', 'frame'],
      ['s2c', 'bad'],
    ]);
    expect(rows.map((row) => row.item?.raw)).toEqual([sent[0], client.received[0], sent[1], client.received[1], sent[2], client.received[2]]);
    expect(inspector.model.lifelines.map((l) => l.id)).toEqual([0, 1]);
    expect(inspector.model.counters.lost).toBe(0);
  });

  it('with --loss 1.0 forwards nothing and draws every datagram as lost', async () => {
    const server = await udpServer(() => Buffer.from('never'));
    cleanups.push(server.close);
    const inspector = await tap(server.port, { loss: 1 });
    const client = await udpClient();
    cleanups.push(client.close);
    for (let i = 1; i <= 5; i++) client.socket.send(`{"type":"say","text":"${i}"}`, inspector.address.port, '127.0.0.1');
    await inspector.waitFor((model) => model.counters.lost === 5, 2_000, 'five lost datagrams');
    // A datagram sent straight to the server, after the five: once it is there, anything forwarded would be too.
    client.socket.send('direct', server.port, '127.0.0.1');
    await server.got(1);
    expect(server.received.map(String)).toEqual(['direct']);
    const rows = datagramRows(inspector.model);
    expect(rows.map((row) => row.kind)).toEqual(['lost', 'lost', 'lost', 'lost', 'lost']);
    expect(rows.map((row) => row.label)).toEqual(Array(5).fill('✗ say'));
    expect(rows.every((row) => row.step === null)).toBe(true);
  });

  /** Sends 30 numbered datagrams through a tap with `faults`; returns what the tap drew and what the server got, in order. */
  async function faultyRun(faults: FaultOptions): Promise<{ drawn: string[]; arrived: string[] }> {
    const server = await udpServer(() => null);
    cleanups.push(server.close);
    const inspector = await tap(server.port, faults);
    const client = await udpClient();
    cleanups.push(client.close);
    for (let i = 1; i <= 30; i++) client.socket.send(`{"type":"say","text":"${i}"}`, inspector.address.port, '127.0.0.1');
    await inspector.waitFor((model) => datagramRows(model).length === 30 + model.counters.duplicates, 3_000, 'all 30 datagrams drawn');
    const delivered = datagramRows(inspector.model).filter((row) => row.kind !== 'lost').length;
    await server.got(delivered);
    const drawn = datagramRows(inspector.model).map((row) => `${row.kind === 'lost' ? '✗' : ''}${row.item?.kind === 'frame' ? String(row.item.frame.text) : '?'}`);
    return { drawn, arrived: server.received.map((bytes) => String(JSON.parse(String(bytes)).text)) };
  }

  it('makes the same losses, duplicates and reorderings for the same seed, and other ones for another seed', async () => {
    const faults = { loss: 0.3, reorder: true, duplicate: 0.2, seed: 42 };
    const first = await faultyRun(faults);
    const again = await faultyRun(faults);
    const other = await faultyRun({ ...faults, seed: 43 });
    expect(again).toEqual(first);
    expect(other.drawn).not.toEqual(first.drawn);
    // The faults really happened: some lost, some out of order, some twice; and the server got exactly what was drawn as delivered.
    expect(first.drawn.filter((d) => d.startsWith('✗')).length).toBeGreaterThan(0);
    expect(first.arrived).toEqual(first.drawn.filter((d) => !d.startsWith('✗')));
    expect(first.arrived).not.toEqual([...first.arrived].sort((a, b) => Number(a) - Number(b)));
    expect(new Set(first.arrived).size).toBeLessThan(first.arrived.length);
  });

  it('records a UDP session that replays and exports to the same diagram, lost arrows included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatlab-udp-trace-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const record = join(dir, 'trace.jsonl');
    const server = await udpServer((bytes) => bytes);
    cleanups.push(server.close);
    const inspector = await startInspector({ transport: 'udp', target: { host: '127.0.0.1', port: server.port }, faults: { loss: 0.5, seed: 7 }, view: 'none', record });
    const client = await udpClient();
    cleanups.push(client.close);
    for (let i = 1; i <= 8; i++) client.socket.send(`{"type":"say","text":"${i}"}`, inspector.address.port, '127.0.0.1');
    await inspector.waitFor((model) => model.rows.filter((row) => row.dir === 'c2s').length === 8, 2_000, 'eight client datagrams drawn');
    await inspector.stop();
    const live = exportModel(inspector.model, 'mermaid');
    const events = await readTrace(record);
    expect(events[0]).toMatchObject({ kind: 'listening', transport: 'udp', faults: { loss: 0.5, seed: 7 } });
    const replayed = modelFromEvents(events);
    expect(replayed.transport).toBe('udp');
    expect(exportModel(replayed, 'mermaid')).toBe(live);
    expect(live).toContain('-xS: ✗ say');
  });
});
