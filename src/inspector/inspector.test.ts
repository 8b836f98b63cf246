import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startInspector, type Inspector } from './inspector.ts';
import type { EventSink } from './sinks.ts';

// A target that answers every line with `{"type":"pong"}` at once.
async function startPongServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (bytes) => {
      for (const _ of bytes.toString().matchAll(/\n/g)) socket.write('{"type":"pong"}\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// A client that sends one ping line and resolves when the answer has arrived.
function pinger(port: number): Promise<{ ping(): Promise<void>; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let waiting: (() => void) | undefined;
    let received = '';
    socket.on('data', (bytes) => {
      received += bytes.toString();
      if (!received.includes('\n')) return;
      received = received.slice(received.lastIndexOf('\n') + 1);
      waiting?.();
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        ping: () =>
          new Promise<void>((answered, failed) => {
            const timer = setTimeout(() => failed(new Error('no pong within 2000 ms')), 2_000);
            waiting = () => {
              clearTimeout(timer);
              answered();
            };
            socket.write('{"type":"ping"}\n');
          }),
      }),
    );
  });
}

/** An output that takes `ms` of the main thread for every event. */
class SlowSink implements EventSink {
  constructor(private readonly ms: number) {}
  applied(): void {
    const until = performance.now() + this.ms;
    while (performance.now() < until);
  }
}

let inspector: Inspector | undefined;
let target: Awaited<ReturnType<typeof startPongServer>> | undefined;
afterEach(async () => {
  await inspector?.stop();
  await target?.close();
  inspector = undefined;
  target = undefined;
});

describe('Inspector.idle()', () => {
  it('is a barrier: an answer a client got through the inspector is drawn once idle() resolves', async () => {
    target = await startPongServer();
    inspector = await startInspector({ target: { host: '127.0.0.1', port: target.port }, framing: 'chatlab' });
    const client = await pinger(inspector.address.port);
    const frames = (type: string): number => inspector?.model.rows.filter((r) => r.kind === 'frame' && r.label === type).length ?? 0;
    // Many rounds: without the barrier, the pong is often still on its way from the proxy thread.
    for (let round = 1; round <= 30; round++) {
      await client.ping();
      await inspector.idle();
      expect({ round, pings: frames('ping'), pongs: frames('pong') }).toEqual({ round, pings: round, pongs: round });
    }
    client.socket.destroy();
  });

  it('also covers the FINs the proxy forwarded before it was called', async () => {
    target = await startPongServer();
    inspector = await startInspector({ target: { host: '127.0.0.1', port: target.port }, framing: 'chatlab' });
    const client = await pinger(inspector.address.port);
    await client.ping();
    // The target closes its side when the client does: once the client sees that FIN, the
    // inspector has forwarded both.
    const closed = new Promise<void>((resolve) => client.socket.once('end', () => resolve()));
    client.socket.end();
    await closed;
    await inspector.idle();
    expect(inspector.model.rows.filter((r) => r.kind === 'fin').map((r) => r.dir)).toEqual(['c2s', 's2c']);
  });

  it('resolves at once after the inspector stopped', async () => {
    target = await startPongServer();
    inspector = await startInspector({ target: { host: '127.0.0.1', port: target.port } });
    await inspector.stop();
    await inspector.idle();
  });
});

describe('the hello watch (helloTimeoutMs)', () => {
  it('notes a server that accepts and says nothing, and stays quiet for one that answers', async () => {
    target = await startPongServer();
    const where = `127.0.0.1:${target.port}`;
    inspector = await startInspector({ target: { host: '127.0.0.1', port: target.port }, helloTimeoutMs: 300 });
    const silent = await pinger(inspector.address.port);
    const talking = await pinger(inspector.address.port);
    await talking.ping();
    await inspector.waitFor((m) => m.rows.some((r) => r.kind === 'silent'), 5_000, 'the no-hello note');
    const notes = inspector.model.rows.filter((r) => r.kind === 'silent');
    expect(notes).toEqual([expect.objectContaining({ conn: 1, label: 'no hello', summary: `connected to ${where} but no hello within 300 ms — is it a chatlab/1 server? is it overloaded?` })]);
    silent.socket.destroy();
    talking.socket.destroy();
  });
});

describe('Inspector.stop()', () => {
  it('is bounded: a diagram far behind is dropped with a count instead of waited for', async () => {
    target = await startPongServer();
    inspector = await startInspector({
      target: { host: '127.0.0.1', port: target.port },
      stopGraceMs: 300,
      // A view that needs 20 ms per event: 40 connections' worth of events take seconds to draw.
      sinks: [new SlowSink(20)],
    });
    const clients = await Promise.all(Array.from({ length: 40 }, () => pinger(inspector?.address.port as number)));
    await inspector.stop();
    // Unbounded, the stop would wait for every event to be drawn; bounded, it drops the rest and counts them.
    expect(inspector.undrawn?.events).toBeGreaterThan(0);
    for (const client of clients) client.socket.destroy();
  });
});
