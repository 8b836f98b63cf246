import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventConsumer } from '../src/inspector/event-flow.ts';
import type { WireEvent } from '../src/inspector/events.ts';
import { startInspector, type Inspector } from '../src/inspector/inspector.ts';
import { startProxy, type InspectorProxy, type ProxyOptions } from '../src/inspector/proxy.ts';
import { startProxyThread } from '../src/inspector/proxy-thread.ts';
import type { EventSink } from '../src/inspector/sinks.ts';
import { within } from '../test-support/promises.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A target server on a free port; `handler` gets each accepted socket. */
async function startTarget(handler: (socket: net.Socket) => void): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    handler(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

async function proxyTo(port: number, options: Partial<ProxyOptions> = {}): Promise<{ proxy: InspectorProxy; events: WireEvent[] }> {
  const events: WireEvent[] = [];
  const proxy = await startProxy({ listen: { port: 0 }, target: { host: '127.0.0.1', port }, onEvent: (e) => events.push(e), ...options });
  cleanups.push(() => proxy.close());
  return { proxy, events };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(socket));
    socket.once('error', reject);
    cleanups.push(() => void socket.destroy());
  });
}

/** Collects everything until the peer ends. */
function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** Writes `data` in 64 KiB pieces, honouring backpressure, then ends (unless `end` is false). */
async function writeAll(socket: net.Socket, data: Buffer, { end = true } = {}): Promise<void> {
  for (let offset = 0; offset < data.length; offset += 65_536) {
    if (!socket.write(data.subarray(offset, offset + 65_536))) await new Promise((resolve) => socket.once('drain', resolve));
  }
  if (end) socket.end();
}

/** Polls `check` until it holds; fails after `ms` naming `what`. */
function waitUntil(check: () => boolean, ms = 5_000, what = 'a condition'): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const poll = (): void => (check() ? resolve() : void setTimeout(poll, 5));
      poll();
    }),
    ms,
    what,
  );
}

async function waitForEvent(events: WireEvent[], predicate: (e: WireEvent) => boolean, ms: number, what: string): Promise<WireEvent> {
  await waitUntil(() => events.some(predicate), ms, what);
  return events.find(predicate) as WireEvent;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const forwarded = (events: WireEvent[], conn: number, dir: 'c2s' | 's2c'): Buffer => Buffer.concat(events.flatMap((e) => (e.kind === 'data' && e.conn === conn && e.dir === dir ? [e.bytes] : [])));

describe('inspector proxy: forwarding', () => {
  it('forwards byte-exact in both directions on several connections at once', async () => {
    const fromClients: Array<Promise<Buffer>> = [];
    const serverPayloads: Buffer[] = [];
    const targetPort = await startTarget((socket) => {
      const payload = randomBytes(2 * 1024 * 1024 + serverPayloads.length * 7);
      serverPayloads.push(payload);
      fromClients.push(readAll(socket));
      void writeAll(socket, payload);
    });
    const { proxy, events } = await proxyTo(targetPort);
    const clientPayloads = [0, 1, 2, 3].map((i) => randomBytes(2 * 1024 * 1024 + i * 13));
    const results = await within(
      Promise.all(
        clientPayloads.map(async (payload) => {
          const socket = await connect(proxy.address.port);
          const got = readAll(socket);
          await writeAll(socket, payload);
          return got;
        }),
      ),
      20_000,
      'four 2 MiB transfers each way',
    );
    // Connections reach the target in some order: match them by content.
    const toServer = await Promise.all(fromClients);
    expect(toServer.map(sha).sort()).toEqual(clientPayloads.map(sha).sort());
    expect(results.map(sha).sort()).toEqual(serverPayloads.map(sha).sort());
    // The events hold exactly the forwarded bytes, in order.
    for (let conn = 1; conn <= 4; conn++) {
      expect(clientPayloads.map(sha)).toContain(sha(forwarded(events, conn, 'c2s')));
      expect(serverPayloads.map(sha)).toContain(sha(forwarded(events, conn, 's2c')));
    }
  });

  it('respects backpressure: a client that does not read stops the server, and loses nothing', async () => {
    const total = 48 * 1024 * 1024;
    const payload = randomBytes(total);
    let accepted = 0;
    let finished = false;
    const targetPort = await startTarget((socket) => {
      void (async () => {
        for (let offset = 0; offset < total; offset += 65_536) {
          const chunk = payload.subarray(offset, offset + 65_536);
          accepted += chunk.length;
          if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
        }
        finished = true;
        socket.end();
      })();
    });
    const { proxy } = await proxyTo(targetPort);
    const socket = await connect(proxy.address.port);
    socket.pause();
    // Give the server every chance to push: with backpressure it must stall well short of 48 MiB.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(finished).toBe(false);
    expect(accepted).toBeLessThan(total / 2);
    const all = readAll(socket);
    socket.resume();
    expect(sha(await within(all, 20_000, 'the stalled transfer to complete'))).toBe(sha(payload));
  });

  it('passes half-closes on: the server still answers after the client sent FIN', async () => {
    const targetPort = await startTarget((socket) => {
      const got = readAll(socket);
      void got.then((bytes) => {
        socket.end(`you said ${bytes.length} bytes\n`);
      });
    });
    const { proxy, events } = await proxyTo(targetPort);
    const socket = await connect(proxy.address.port);
    const reply = readAll(socket);
    socket.end('hello there');
    expect((await within(reply, 5_000, 'the reply after FIN')).toString()).toBe('you said 11 bytes\n');
    await waitForEvent(events, (e) => e.kind === 'close' && e.side === 'server', 5_000, 'the server side to close');
    const kinds = events.filter((e) => e.kind !== 'data').map((e) => (e.kind === 'end' ? `end ${e.dir}` : e.kind === 'close' ? `close ${e.side}` : e.kind));
    expect(kinds.slice(0, 4)).toEqual(['open', 'upstream', 'end c2s', 'end s2c']);
    expect(kinds.slice(4).sort()).toEqual(['close client', 'close server']);
  });

  it('passes a reset on as a reset', async () => {
    let serverError: Promise<string> = Promise.resolve('none');
    const targetPort = await startTarget((socket) => {
      serverError = new Promise((resolve) => {
        socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        socket.on('close', () => resolve('closed without error'));
      });
      socket.resume();
    });
    const { proxy, events } = await proxyTo(targetPort);
    const socket = await connect(proxy.address.port);
    await waitForEvent(events, (e) => e.kind === 'upstream', 5_000, 'the upstream connection');
    socket.resetAndDestroy();
    const close = await waitForEvent(events, (e) => e.kind === 'close' && e.side === 'client', 5_000, 'the client close event');
    expect(close).toMatchObject({ error: 'ECONNRESET', reset: true });
    expect(await within(serverError, 5_000, 'the server to see the reset')).toBe('ECONNRESET');
    await waitForEvent(events, (e) => e.kind === 'close' && e.side === 'server', 5_000, 'the server close event');
    // Cause first: the client's reset, then the server side the proxy reset because of it.
    expect(events.filter((e) => e.kind === 'close').map((e) => (e.kind === 'close' ? e.side : ''))).toEqual(['client', 'server']);
  });

  it('reports a target that refuses', async () => {
    const unused = net.createServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    const deadPort = (unused.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => unused.close(() => resolve()));
    const { proxy, events } = await proxyTo(deadPort);
    const socket = await connect(proxy.address.port);
    socket.on('error', () => undefined);
    await within(new Promise((resolve) => socket.once('close', resolve)), 5_000, 'the client to be closed');
    const close = await waitForEvent(events, (e) => e.kind === 'close' && e.side === 'server', 5_000, 'the refused close');
    expect(close).toMatchObject({ error: 'ECONNREFUSED' });
    expect(events.some((e) => e.kind === 'upstream')).toBe(false);
    await waitForEvent(events, (e) => e.kind === 'close' && e.side === 'client', 5_000, 'the client close');
    // Cause first: the refusal, then the client the proxy hung up on because of it.
    expect(events.filter((e) => e.kind === 'close').map((e) => (e.kind === 'close' ? e.side : ''))).toEqual(['server', 'client']);
  });
});

describe('inspector proxy: fault injection', () => {
  it('--fragment re-chunks into pieces of at most N bytes, byte-exact, in both directions', async () => {
    const targetPort = await startTarget((socket) => {
      socket.on('data', (chunk: Buffer) => socket.write(chunk)); // echo
      socket.on('end', () => socket.end());
    });
    const { proxy, events } = await proxyTo(targetPort, { faults: { fragment: 7 } });
    const socket = await connect(proxy.address.port);
    const message = Buffer.from('{"type":"say","text":"fragmented 👋 across many reads"}\n'.repeat(20));
    const echoed = readAll(socket);
    socket.end(message);
    expect((await within(echoed, 10_000, 'the fragmented echo')).equals(message)).toBe(true);
    const pieces = events.filter((e): e is Extract<WireEvent, { kind: 'data' }> => e.kind === 'data');
    expect(pieces.every((e) => e.bytes.length <= 7)).toBe(true);
    expect(forwarded(events, 1, 'c2s').equals(message)).toBe(true);
    expect(forwarded(events, 1, 's2c').equals(message)).toBe(true);
    expect(pieces.filter((e) => e.dir === 'c2s').map((e) => e.read)).toEqual(Array.from({ length: Math.ceil(message.length / 7) }, (_, i) => i + 1));
  });

  it('--fragment under load still forwards every byte', async () => {
    const payload = randomBytes(512 * 1024);
    let got: Promise<Buffer> | undefined;
    const targetPort = await startTarget((socket) => {
      got = readAll(socket);
    });
    const { proxy } = await proxyTo(targetPort, { faults: { fragment: 1000 } });
    const socket = await connect(proxy.address.port);
    await writeAll(socket, payload);
    await waitUntil(() => got !== undefined);
    expect(sha(await within(got as Promise<Buffer>, 20_000, 'the fragmented upload'))).toBe(sha(payload));
  });

  it('--delay holds every piece that long, in order', async () => {
    const targetPort = await startTarget((socket) => socket.on('data', (chunk: Buffer) => socket.write(chunk)));
    const { proxy } = await proxyTo(targetPort, { faults: { delayMs: 60 } });
    const socket = await connect(proxy.address.port);
    const started = performance.now();
    const echo = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write('ping\n');
    expect((await within(echo, 5_000, 'the delayed echo')).toString()).toBe('ping\n');
    // 60 ms on the way there and 60 ms on the way back.
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
  });

  it('--drop-after forwards exactly N bytes, then resets both sides', async () => {
    let toServer: Promise<Buffer> | undefined;
    const targetPort = await startTarget((socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      // A reset that overtakes unread data may read as EOF or as ECONNRESET (a kernel race):
      // either way the server's connection is over after exactly N bytes.
      toServer = new Promise((resolve) => {
        socket.once('end', () => resolve(Buffer.concat(chunks)));
        socket.once('close', () => resolve(Buffer.concat(chunks)));
      });
    });
    const { proxy, events } = await proxyTo(targetPort, { faults: { dropAfter: 25 } });
    const socket = await connect(proxy.address.port);
    const clientError = new Promise<string>((resolve) => socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message)));
    await waitForEvent(events, (e) => e.kind === 'upstream', 5_000, 'the upstream connection');
    socket.write('{"type":"login","user":"alice","password":"wonderland"}\n');
    expect(await within(clientError, 5_000, 'the client to be reset')).toBe('ECONNRESET');
    await waitUntil(() => toServer !== undefined);
    expect((await within(toServer as Promise<Buffer>, 5_000, 'the server side to be cut')).toString()).toBe('{"type":"login","user":"a');
    const fault = await waitForEvent(events, (e) => e.kind === 'fault', 5_000, 'the fault event');
    expect(fault).toMatchObject({ fault: 'drop' });
    await waitForEvent(events, (e) => e.kind === 'close' && e.side === 'server', 5_000, 'the server close event');
    await waitForEvent(events, (e) => e.kind === 'close' && e.side === 'client', 5_000, 'the client close event');
    expect(events.filter((e) => e.kind === 'close').every((e) => e.kind === 'close' && e.reset === true)).toBe(true);
    expect(forwarded(events, 1, 'c2s').length).toBe(25);
  });
});

describe('inspector proxy: lifecycle', () => {
  it('close() tears down open connections and stops listening', async () => {
    const targetPort = await startTarget((socket) => socket.resume());
    const { proxy, events } = await proxyTo(targetPort);
    const socket = await connect(proxy.address.port);
    await waitForEvent(events, (e) => e.kind === 'upstream', 5_000, 'the upstream connection');
    expect(proxy.openConnections).toBe(1);
    const ended = new Promise((resolve) => socket.once('end', resolve));
    socket.resume();
    await within(proxy.close(), 5_000, 'proxy.close()');
    await within(ended, 5_000, 'the client to see the close');
    expect(proxy.openConnections).toBe(0);
    await expect(connect(proxy.address.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('inspector (proxy thread + diagram) under load', () => {
  it('forwards every byte at full speed while a slow diagram skips what it cannot keep up with, within its bound', async () => {
    const payload = Buffer.from('{"type":"say","text":"load"}\n'.repeat(200_000)); // 5.8 MB of frames
    const maxQueuedBytes = 256 * 1024;
    let got: Promise<Buffer> | undefined;
    const targetPort = await startTarget((socket) => {
      got = readAll(socket);
    });
    const backlog = new BacklogWatch(2);
    const inspector = await startInspector({ target: { host: '127.0.0.1', port: targetPort }, view: 'none', maxQueuedBytes, sinks: [backlog] });
    backlog.watch(inspector);
    cleanups.push(() => inspector.stop());
    const socket = await connect(inspector.address.port);
    await writeAll(socket, payload);
    await waitUntil(() => got !== undefined);
    expect(sha(await within(got as Promise<Buffer>, 20_000, 'the upload through the inspector'))).toBe(sha(payload));
    await inspector.stop();
    const { bytes, skippedBytes, frames } = inspector.model.counters;
    // Every byte is either decoded or reported skipped; frames decoded are whole frames.
    expect(bytes.c2s + skippedBytes).toBe(payload.length);
    expect(frames.c2s).toBeGreaterThan(0);
    if (skippedBytes > 0) expect(inspector.model.rows.some((r) => r.kind === 'gap')).toBe(true);
    // However slow the output, the main thread never held more undecoded bytes than the bound.
    expect(backlog.maxBytes).toBeGreaterThan(0);
    expect(backlog.maxBytes).toBeLessThanOrEqual(maxQueuedBytes);
  });
});

describe('the proxy thread as an event source', () => {
  it('hands a consumer that stops crediting no more than its bound, skips the rest as gaps, and resumes once credited', async () => {
    const maxInFlightBytes = 64 * 1024;
    const payload = randomBytes(2 * 1024 * 1024);
    let got: Promise<Buffer> | undefined;
    let arrived = 0;
    const targetPort = await startTarget((socket) => {
      got = readAll(socket);
      socket.on('data', (chunk: Buffer) => (arrived += chunk.length));
    });
    const source = await startProxyThread({ listen: { port: 0 }, target: { host: '127.0.0.1', port: targetPort }, maxInFlightBytes });
    cleanups.push(() => source.close());
    const consumer = new StoppedConsumer();
    source.deliverTo(consumer);
    const socket = await connect(source.address.port);
    await writeAll(socket, payload.subarray(0, payload.length / 2), { end: false });
    await waitUntil(() => arrived === payload.length / 2, 10_000, 'the first half at the target');
    await source.sync();
    // The reader stopped: it holds at most the bound, the rest was counted, nothing was lost.
    expect(consumer.dataBytes).toBeGreaterThan(0);
    expect(consumer.dataBytes).toBeLessThanOrEqual(maxInFlightBytes);
    expect(consumer.dataBytes + consumer.gapBytes).toBe(payload.length / 2);

    // Once the consumer is done with what it holds, the source hands data over again.
    const held = consumer.dataBytes;
    source.consumed(held);
    await source.sync(); // the credit has reached the thread
    await writeAll(socket, payload.subarray(payload.length / 2));
    expect(sha(await within(got as Promise<Buffer>, 20_000, 'the upload through the proxy thread'))).toBe(sha(payload));
    await source.sync();
    expect(consumer.dataBytes).toBeGreaterThan(held);
    expect(consumer.dataBytes - held).toBeLessThanOrEqual(maxInFlightBytes);
    expect(consumer.dataBytes + consumer.gapBytes).toBe(payload.length);
  });
});

/** A consumer that keeps every event and never credits any back: a reader that stopped. */
class StoppedConsumer implements EventConsumer {
  dataBytes = 0;
  gapBytes = 0;
  push(event: WireEvent): void {
    if (event.kind === 'data') this.dataBytes += event.bytes.length;
    else if (event.kind === 'gap') this.gapBytes += event.bytes;
  }
}

/** A slow output (`ms` per data event) that notes the most undecoded bytes the inspector held. */
class BacklogWatch implements EventSink {
  maxBytes = 0;
  private inspector: Inspector | undefined;
  constructor(private readonly ms: number) {}
  watch(inspector: Inspector): void {
    this.inspector = inspector;
  }
  applied(event: WireEvent): void {
    // The event being applied still counts in the backlog.
    this.maxBytes = Math.max(this.maxBytes, this.inspector?.backlog.bytes ?? 0);
    if (event.kind !== 'data') return;
    const until = performance.now() + this.ms;
    while (performance.now() < until);
  }
}
