/**
 * The raw test socket and its assertion, over real sockets: a FrameSocket connects (over TCP, or
 * TLS trusting one certificate) to a tiny server whose accepted sockets are FrameSockets too, and
 * `expectFrame` passes on the next frame, fails on a different one showing it, and fails with the
 * frames that did arrive when none comes.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './cli-process.ts';
import { expectFrame } from './expect-frame.ts';
import { FrameSocket } from './frame-socket.ts';

const servers: Server[] = [];
const sockets: FrameSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Listens on a free port; resolves with it and the server side of the next connection. */
async function listen(server: Server, secure = false): Promise<{ port: number; accepted: Promise<FrameSocket> }> {
  servers.push(server);
  const accepted = new Promise<FrameSocket>((resolve) =>
    server.once(secure ? 'secureConnection' : 'connection', (socket: Socket) => {
      const wrapped = FrameSocket.wrap(socket, 'server side');
      sockets.push(wrapped);
      resolve(wrapped);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, accepted };
}

async function pair(): Promise<{ client: FrameSocket; server: FrameSocket }> {
  const { port, accepted } = await listen(createServer());
  const client = await FrameSocket.connect(port, { label: 'alice', waitMs: 500 });
  sockets.push(client);
  return { client, server: await accepted };
}

describe('expectFrame', () => {
  it('takes the next frame when the given fields match, and returns all of it', async () => {
    const { client, server } = await pair();
    server.send({ type: 'ok', id: 'p1', msgid: 42 });
    server.send({ type: 'message', from: 'bob', text: 'hi', ts: 7 });
    expect(await expectFrame(client, { type: 'ok', id: 'p1', msgid: expect.any(Number) })).toEqual({ type: 'ok', id: 'p1', msgid: 42 });
    expect(await expectFrame(client, { type: 'message', text: 'hi' })).toEqual({ type: 'message', from: 'bob', text: 'hi', ts: 7 });
  });

  it('fails on a different next frame, naming the socket and showing the frame that came, without skipping ahead', async () => {
    const { client, server } = await pair();
    server.send({ type: 'presence', user: 'carol', status: 'online' });
    server.send({ type: 'message', from: 'bob', text: 'hi' });
    server.send({ type: 'pong', id: 'barrier' });
    await client.next('pong'); // both frames before it are in: a skipping match would find the message
    const failure = await expectFrame(client, { type: 'message', from: 'bob' }).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/^alice's next frame was \{"type":"presence","user":"carol","status":"online"\}: expected/);
    // The presence was taken; the message is still next.
    await expectFrame(client, { type: 'message', from: 'bob' });
  });

  it('fails when no frame comes in time, listing what did arrive', async () => {
    const { client, server } = await pair();
    server.send({ type: 'hello', protocol: 'chatlab/1' });
    await expectFrame(client, { type: 'hello' });
    await expect(expectFrame(client, { type: 'welcome' }, 100)).rejects.toThrow(/alice: no further frame within 100 ms; received: \{"type":"hello","protocol":"chatlab\/1"\}/);
  });

  it('reads frames the client sent, on the server side of a fake server', async () => {
    const { client, server } = await pair();
    client.send({ type: 'login', user: 'alice', password: 'wonderland', id: 1 });
    await expectFrame(server, { type: 'login', user: 'alice', id: 1 });
  });
});

describe('FrameSocket over TLS', () => {
  it('connects trusting one certificate, after the handshake, and exchanges frames inside it', async () => {
    const lesson = join(REPO_ROOT, 'lessons', '13-tls');
    const cert = readFileSync(join(lesson, 'demo-cert.pem'));
    const { port, accepted } = await listen(createTlsServer({ cert, key: readFileSync(join(lesson, 'demo-key.pem')) }), true);
    const client = await FrameSocket.connect(port, { label: 'alice', ca: cert });
    sockets.push(client);
    expect(client.socket).toBeInstanceOf(TLSSocket);
    expect((client.socket as TLSSocket).authorized).toBe(true);
    const server = await accepted;
    server.send({ type: 'hello', protocol: 'chatlab/1' });
    await expectFrame(client, { type: 'hello', protocol: 'chatlab/1' });
    client.destroy(); // no RST over TLS: destroyed at once, without throwing
    await server.closed();
  });
});
