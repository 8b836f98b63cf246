import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../protocol/index.ts';
import { nextClientEvent } from '../../test-support/client-events.ts';
import { FrameSocket } from '../../test-support/frame-socket.ts';
import { rejection, within } from '../../test-support/promises.ts';
import { ChatClient, ClientError, ProtocolError, type ChatClientEvents } from './index.ts';

// A tiny scripted server: each test says what the server sends and reads what the client sent.

/** The fake server plays a server with every extension (the tests use who, ping, …). */
const HELLO = '{"type":"hello","protocol":"chatlab/1","features":["register","who","ping","private","rooms","history","files"]}\n';
const WAIT_MS = 5_000;

const servers: Server[] = [];
const clients: ChatClient[] = [];

/**
 * Starts a fake server; resolves with its port and a function giving the next connection it
 * accepted, as a {@link FrameSocket} (what the client sent, and a way to answer it).
 */
async function fakeServer(options: { hello?: boolean } = {}): Promise<{ port: number; accept: () => Promise<FrameSocket> }> {
  const accepted: FrameSocket[] = [];
  const waiting: ((peer: FrameSocket) => void)[] = [];
  const server = createServer((socket) => {
    if (options.hello !== false) socket.write(HELLO);
    const peer = FrameSocket.wrap(socket, 'fake server', WAIT_MS);
    const waiter = waiting.shift();
    if (waiter) waiter(peer);
    else accepted.push(peer);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accept = (): Promise<FrameSocket> => {
    const peer = accepted.shift();
    if (peer) return Promise.resolve(peer);
    return within(new Promise<FrameSocket>((resolve) => waiting.push(resolve)), WAIT_MS, () => 'the client did not connect to the fake server');
  };
  return { port: (server.address() as AddressInfo).port, accept };
}

async function connect(port: number, options: Parameters<typeof ChatClient.connect>[0] = {}): Promise<ChatClient> {
  const client = await ChatClient.connect({ port, ...options });
  clients.push(client);
  return client;
}

/** Resolves with the first emission of `event`, or fails after a bounded wait. */
function nextEvent<K extends keyof ChatClientEvents>(client: ChatClient, event: K): Promise<ChatClientEvents[K][0]> {
  return nextClientEvent(client, event, () => true, WAIT_MS);
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('ChatClient.connect', () => {
  it('resolves once hello arrived, even one byte per read', async () => {
    const { port, accept } = await fakeServer({ hello: false });
    const connecting = ChatClient.connect({ port });
    const peer = await accept();
    for (const byte of Buffer.from('{"type":"hello","protocol":"chatlab/1","server":"fake","extra":1}\n')) {
      peer.socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const client = await connecting;
    clients.push(client);
    expect(client.hello).toEqual({ type: 'hello', protocol: 'chatlab/1', server: 'fake' });
    expect(client.state).toBe('open');
  });

  it('rejects with connection_refused when nobody listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const error = await rejection(ChatClient.connect({ port }));
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: 'connection_refused' });
    expect(error.message).toBe(`connection refused by 127.0.0.1:${port}: is a chatlab server running there?`);
  });

  it('rejects with connect_timeout, saying so, when a server accepts and never says hello', async () => {
    const { port, accept } = await fakeServer({ hello: false });
    // The connect timeout is long: the hello timeout alone must end the wait.
    const connecting = ChatClient.connect({ port, connectTimeoutMs: 60_000, helloTimeoutMs: 300 });
    const peer = await accept();
    const error = await rejection(connecting);
    expect(error).toMatchObject({ code: 'connect_timeout' });
    expect(error.message).toBe(`connected to 127.0.0.1:${port} but no hello within 300 ms — is it a chatlab/1 server? is it overloaded? does it speak TLS?`);
    await peer.closed();
  });

  it('rejects with connection_closed when the server hangs up before hello', async () => {
    const { port, accept } = await fakeServer({ hello: false });
    const connecting = ChatClient.connect({ port });
    (await accept()).socket.end();
    expect(await rejection(connecting)).toMatchObject({ code: 'connection_closed', message: expect.stringContaining('before saying hello') });
  });

  it('rejects with the ProtocolError a full server greets with', async () => {
    const { port, accept } = await fakeServer({ hello: false });
    const connecting = ChatClient.connect({ port });
    const peer = await accept();
    peer.send({ type: 'error', code: 'too_many_connections', message: 'the server is full' });
    peer.socket.end();
    const error = await rejection(connecting);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'too_many_connections', message: 'the server is full' });
  });

  it('rejects when the first frame is not hello, or not a frame at all', async () => {
    const { port, accept } = await fakeServer({ hello: false });
    const first = ChatClient.connect({ port });
    (await accept()).send({ type: 'message', from: 'a', text: 'b', ts: 1 });
    expect(await rejection(first)).toMatchObject({ code: 'bad_server_frame', message: expect.stringContaining('before hello') });
    const second = ChatClient.connect({ port });
    (await accept()).socket.write('HTTP/1.1 400 Bad Request\r\n');
    expect(await rejection(second)).toMatchObject({ code: 'bad_server_frame' });
  });

  it('rejects bad options with one clear error, and leaves no connect timer behind (it fired later on a socket never made)', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timers();
    expect(await rejection(ChatClient.connect({ port: 70_000 }))).toMatchObject({ code: 'connect_failed' });
    expect(timers()).toBe(before);
  });
});

describe('ChatClient requests', () => {
  it('gives each request an id and settles it on the answer with that id, in any order', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const login = client.login('alice', 'wonderland');
    const who = client.who();
    const loginFrame = await peer.nextFrame();
    const whoFrame = await peer.nextFrame();
    expect(loginFrame).toEqual({ type: 'login', user: 'alice', password: 'wonderland', id: expect.any(Number) });
    expect(whoFrame).toEqual({ type: 'who', id: expect.any(Number) });
    expect(whoFrame.id).not.toBe(loginFrame.id);
    // Answers out of order, both in one read.
    await peer.sendRaw(
      encodeFrame({ type: 'users', users: ['alice', 'bob'], id: whoFrame.id as number }).toString() +
        encodeFrame({ type: 'welcome', user: 'alice', users: ['alice', 'bob'], id: loginFrame.id as number }).toString(),
    );
    expect(await who).toEqual(['alice', 'bob']);
    expect(await login).toEqual({ type: 'welcome', user: 'alice', users: ['alice', 'bob'], id: loginFrame.id });
    expect(client.user).toBe('alice');
  });

  it('rejects with a ProtocolError carrying code and message', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const login = client.login('alice', 'nope');
    const frame = await peer.nextFrame();
    peer.send({ type: 'error', code: 'auth_failed', message: 'wrong user name or password', id: frame.id as number });
    const error = await rejection(login);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'auth_failed', message: 'wrong user name or password', id: frame.id });
    expect(client.state).toBe('open');
  });

  it('matches answers without an id (a server that does not echo ids) to the oldest request expecting them', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const failed = client.login('alice', 'nope');
    await peer.nextFrame();
    peer.send({ type: 'error', code: 'auth_failed', message: 'no' });
    expect(await rejection(failed)).toMatchObject({ code: 'auth_failed' });
    const login = client.login('alice', 'wonderland');
    await peer.nextFrame();
    peer.send({ type: 'welcome', user: 'alice', users: ['alice'] });
    expect((await login).user).toBe('alice');
    const ping = client.ping();
    await peer.nextFrame();
    peer.send({ type: 'pong', ts: 1 });
    expect(await ping).toBeGreaterThanOrEqual(0);
  });

  it('rejects with request_timeout when no answer comes', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port, { requestTimeoutMs: 150 });
    await accept();
    const error = await rejection(client.say('anyone?'));
    expect(error).toMatchObject({ code: 'request_timeout', message: expect.stringContaining('no answer to "say"') });
    expect(client.state).toBe('open');
  });

  it('refuses a frame over the size limit without sending it', async () => {
    const { port } = await fakeServer();
    const client = await connect(port);
    expect(await rejection(client.say('x'.repeat(70_000)))).toMatchObject({ code: 'frame_too_large' });
  });

  it('ignores unknown frame types and reports invalid ones as error events', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const frames: string[] = [];
    const errors: Error[] = [];
    client.on('frame', (frame) => frames.push(frame.type));
    client.on('error', (error) => errors.push(error));
    const message = nextEvent(client, 'message');
    await peer.sendRaw('{"type":"telepathy","data":"AAAA"}\n{"type":"message","from":"bob","text":"no ts"}\nnot json\n');
    peer.send({ type: 'message', from: 'bob', text: 'hi', ts: 1, future: true });
    expect((await message).text).toBe('hi');
    expect(frames).toEqual(['message']);
    expect(errors.map((e) => (e as ClientError).code)).toEqual(['bad_server_frame', 'bad_server_frame']);
    expect(errors[0]?.message).toContain('"ts"');
  });

  it('emits unsolicited errors, and survives them without an error listener', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    peer.send({ type: 'error', code: 'rate_limited', message: 'slow down' });
    const pong = client.ping();
    const ping = await peer.nextFrame();
    peer.send({ type: 'pong', ts: 1, id: ping.id as number });
    await pong; // got here: the error without a listener did not throw
    const error = nextEvent(client, 'error');
    peer.send({ type: 'error', code: 'rate_limited', message: 'slow down', id: 'not-ours' });
    expect(await error).toMatchObject({ code: 'rate_limited', message: 'slow down', id: 'not-ours' });
  });

  it('emits message and presence events', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const presence = nextEvent(client, 'presence');
    const message = nextEvent(client, 'message');
    peer.send({ type: 'presence', user: 'bob', status: 'online' });
    peer.send({ type: 'message', from: 'bob', text: 'hello 👋', ts: 5 });
    expect(await presence).toEqual({ type: 'presence', user: 'bob', status: 'online' });
    expect(await message).toEqual({ type: 'message', from: 'bob', text: 'hello 👋', ts: 5 });
  });

  it('holds frames in a bounded queue while the socket is congested', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port, { maxQueuedBytes: 64 * 1024, requestTimeoutMs: 60_000 });
    const peer = await accept();
    peer.socket.pause(); // the server stops reading: the kernel buffers fill, then write() says wait
    const text = 'x'.repeat(60_000);
    const pending: Promise<unknown>[] = [];
    let refused: Error | undefined;
    for (let i = 0; i < 2_000 && !refused; i++) {
      const say = client.say(text);
      say.catch(() => {});
      pending.push(say);
      refused = await Promise.race([rejection(say).catch(() => undefined), new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
      expect(client.queuedBytes).toBeLessThanOrEqual(64 * 1024);
    }
    expect(refused).toMatchObject({ code: 'send_queue_full' });
    expect(client.queuedBytes).toBeGreaterThan(0);
    // Once the server reads again, everything queued goes out, in order.
    const sent = pending.length - 1;
    peer.socket.resume();
    for (let i = 0; i < sent; i++) expect((await peer.nextFrame()).type).toBe('say');
    expect(client.queuedBytes).toBe(0);
  });
});

describe('ChatClient closing', () => {
  it('rejects pending requests and emits close with the reason when the server closes unexpectedly', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const who = client.who();
    const closed = nextEvent(client, 'close');
    await peer.nextFrame();
    peer.socket.end();
    const error = await rejection(who);
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: 'connection_closed', message: `the server at 127.0.0.1:${port} closed the connection unexpectedly` });
    expect(await closed).toBe(error);
    expect(client.state).toBe('closed');
    expect(await rejection(client.say('still there?'))).toMatchObject({ code: 'not_connected' });
  });

  it('names the server error that came before an unexpected close', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const closed = nextEvent(client, 'close');
    peer.send({ type: 'error', code: 'idle_timeout', message: 'no login within 60 s; closing' });
    peer.socket.end();
    expect((await closed)?.message).toBe('the server closed the connection after idle_timeout: no login within 60 s; closing');
  });

  it('quit sends quit, and resolves after bye once the socket is closed', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const events: string[] = [];
    client.on('bye', () => events.push('bye'));
    client.on('close', (error) => events.push(`close ${error}`));
    const quit = client.quit();
    const frame = await peer.nextFrame();
    expect(frame).toEqual({ type: 'quit', id: expect.any(Number) });
    peer.send({ type: 'bye', id: frame.id as number });
    // Step 10 is the client's: it closes first; this server waits for that.
    let serverSawEnd = false;
    peer.socket.on('end', () => {
      serverSawEnd = true;
      peer.socket.end();
    });
    await quit;
    expect(serverSawEnd).toBe(true);
    expect(events).toEqual(['bye', 'close null']);
    expect(client.state).toBe('closed');
    await client.quit(); // again: nothing to do
  });

  it('quit also ends cleanly when the server closes its side right after bye (the contract allows either)', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const events: string[] = [];
    client.on('bye', () => events.push('bye'));
    client.on('close', (error) => events.push(`close ${error}`));
    const quit = client.quit();
    const frame = await peer.nextFrame();
    peer.socket.end(encodeFrame({ type: 'bye', id: frame.id as number }));
    await quit;
    expect(events).toEqual(['bye', 'close null']);
    expect(client.state).toBe('closed');
  });

  it('quit refused (not logged in) just closes', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const quit = client.quit();
    const frame = await peer.nextFrame();
    peer.send({ type: 'error', code: 'not_logged_in', message: 'log in first', id: frame.id as number });
    await quit;
    expect(client.state).toBe('closed');
  });

  it('quit without a bye in time drops the connection and rejects', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port, { requestTimeoutMs: 150 });
    const peer = await accept();
    const error = await rejection(client.quit());
    expect(error).toMatchObject({ code: 'request_timeout', message: expect.stringContaining('no bye') });
    expect(client.state).toBe('closed');
    await peer.closed();
  });

  it('a bye the server sends on its own (shutdown) closes cleanly and rejects pending requests', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const who = client.who();
    await peer.nextFrame();
    const bye = nextEvent(client, 'bye');
    const closed = nextEvent(client, 'close');
    peer.send({ type: 'bye', reason: 'server_shutdown' });
    expect(await bye).toEqual({ type: 'bye', reason: 'server_shutdown' });
    peer.socket.end();
    expect(await closed).toBeNull();
    expect(await rejection(who)).toMatchObject({ code: 'connection_closed' });
  });

  it('destroy drops the connection at once and rejects pending requests', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const who = client.who();
    const closed = nextEvent(client, 'close');
    client.destroy();
    expect(await closed).toBeNull();
    expect(await rejection(who)).toMatchObject({ code: 'connection_closed' });
    await peer.closed();
  });
});

describe('ChatClient paged user lists', () => {
  it('reports a paged welcome and who only once the last page arrived, as one list', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const welcomes: string[][] = [];
    client.on('welcome', (frame) => welcomes.push(frame.users));
    let settled = false;
    const login = client.login('alice', 'wonderland').finally(() => (settled = true));
    const { id } = await peer.nextFrame();
    peer.send({ type: 'welcome', user: 'alice', users: ['alice', 'bob'], more: true, id: id as number });
    peer.send({ type: 'users', users: ['carol'], more: true, id: id as number });
    // A ping answered in between proves the first pages were read, yet nothing was reported.
    const ping = client.ping();
    const pingFrame = await peer.nextFrame();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    expect(welcomes).toEqual([]);
    peer.send({ type: 'users', users: ['dave'], id: id as number });
    peer.send({ type: 'pong', ts: 1, id: pingFrame.id as number });
    expect(await login).toEqual({ type: 'welcome', user: 'alice', users: ['alice', 'bob', 'carol', 'dave'], id });
    expect(welcomes).toEqual([['alice', 'bob', 'carol', 'dave']]);
    await ping;

    const who = client.who();
    const whoFrame = await peer.nextFrame();
    peer.send({ type: 'users', users: ['alice'], more: true, id: whoFrame.id as number });
    peer.send({ type: 'users', users: ['bob'], id: whoFrame.id as number });
    expect(await who).toEqual(['alice', 'bob']);
  });

  it('fails the request when another frame breaks into a paged list', async () => {
    const { port, accept } = await fakeServer();
    const client = await connect(port);
    const peer = await accept();
    const login = client.login('alice', 'wonderland');
    const { id } = await peer.nextFrame();
    peer.send({ type: 'welcome', user: 'alice', users: ['alice'], more: true, id: id as number });
    peer.send({ type: 'presence', user: 'bob', status: 'online' });
    const error = await rejection(login);
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: 'bad_server_frame', message: expect.stringMatching(/paged user list.*"presence" came before its last page/) });
  });
});
