/**
 * End to end: the ten steps of chatlab/1 against the reference server, over real sockets,
 * asserting every frame each participant receives, in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FEATURES, PROTOCOL, type RawFrame } from '../src/protocol/index.ts';
import type { ChatServerEvents } from '../src/server/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { FrameSocket } from '../test-support/frame-socket.ts';
import { within } from '../test-support/promises.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

/** Step 3 + 4 + 5 for one user, asserting the exact hello and welcome. */
async function join(port: number, user: string, password: string, expectedUsers: string[], id?: number | string): Promise<FrameSocket> {
  const socket = await FrameSocket.connect(port, { label: user });
  expect(await socket.nextFrame()).toEqual({ type: 'hello', protocol: PROTOCOL, server: expect.stringMatching(/^chatlab-server\/\d+\.\d+\.\d+/), features: [...FEATURES] });
  socket.send({ type: 'login', user, password, ...(id !== undefined && { id }) });
  expect(await socket.nextFrame()).toEqual({ type: 'welcome', user, users: expectedUsers, ...(id !== undefined && { id }) });
  return socket;
}

/** Records every server event by name. */
function recordEvents(server: TestServer['server']): Array<[keyof ChatServerEvents, unknown]> {
  const seen: Array<[keyof ChatServerEvents, unknown]> = [];
  for (const name of ['connection', 'login', 'message', 'logout', 'disconnect', 'error'] as const) {
    server.events.on(name, (payload: unknown) => seen.push([name, payload]));
  }
  return seen;
}

function expectTimestampNearNow(frame: RawFrame, before: number): void {
  expect(typeof frame.ts).toBe('number');
  expect(frame.ts as number).toBeGreaterThanOrEqual(before);
  expect(frame.ts as number).toBeLessThanOrEqual(Date.now());
}

describe('the ten steps with three users', () => {
  it('hello, welcome, presence, relay, ok, quit, bye, offline, close', async () => {
    chat = await startTestServer();
    const events = recordEvents(chat.server);
    const { port } = chat;

    // Steps 2–5: alice alone, then bob, then carol; presence goes to the others only.
    const alice = await join(port, 'alice', 'wonderland', ['alice'], 'a-1');
    const bob = await join(port, 'bob', 'builder', ['alice', 'bob'], 2);
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'bob', status: 'online' });
    const carol = await join(port, 'carol', 'caroline', ['alice', 'bob', 'carol']);
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'carol', status: 'online' });
    expect(await bob.nextFrame()).toEqual({ type: 'presence', user: 'carol', status: 'online' });
    expect(await carol.sync()).toEqual([]); // no presence about herself

    // Steps 6–7: alice speaks; bob and carol get it with server-set from/ts; alice gets only ok.
    const before = Date.now();
    alice.send({ type: 'say', text: 'hello 👋', id: 7 });
    for (const other of [bob, carol]) {
      const message = await other.nextFrame();
      expect(message).toEqual({ type: 'message', from: 'alice', room: 'lobby', text: 'hello 👋', ts: expect.any(Number), msgid: expect.any(Number) });
      expectTimestampNearNow(message, before);
    }
    expect(await alice.nextFrame()).toEqual({ type: 'ok', id: 7, msgid: expect.any(Number) });
    expect(await alice.sync()).toEqual([]); // no copy of her own message

    // A say without id gets no ok.
    bob.send({ type: 'say', text: 'hi alice' });
    expect(await alice.nextFrame()).toMatchObject({ type: 'message', from: 'bob', text: 'hi alice' });
    expect(await carol.nextFrame()).toMatchObject({ type: 'message', from: 'bob', text: 'hi alice' });
    expect(await bob.sync()).toEqual([]);

    // Steps 8–10: bob quits: bye to him, offline to the others, and the server closes after him.
    bob.send({ type: 'quit' });
    expect(await bob.nextFrame()).toEqual({ type: 'bye' });
    expect(bob.serverEnded).toBe(false); // step 10 is the client's: the server waits for it
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'bob', status: 'offline' });
    expect(await carol.nextFrame()).toEqual({ type: 'presence', user: 'bob', status: 'offline' });
    const disconnected = new Promise((resolve) => chat!.server.events.on('disconnect', (e) => e.user === 'bob' && resolve(e)));
    bob.end();
    await bob.closed();
    await within(disconnected, 2000, () => 'no disconnect event for bob');

    // bob is gone for good: who and a new welcome do not list him.
    alice.send({ type: 'who', id: 'w' });
    expect(await alice.nextFrame()).toEqual({ type: 'users', users: ['alice', 'carol'], id: 'w' });
    const dave = await join(port, 'dave', 'davesecret', ['alice', 'carol', 'dave']);

    await chat.stop();

    const names = events.map(([name]) => name);
    expect(names.filter((n) => n === 'connection')).toHaveLength(4);
    expect(names.filter((n) => n === 'login')).toHaveLength(4);
    expect(events).toContainEqual(['message', { id: expect.any(Number), from: 'alice', text: 'hello 👋', ts: expect.any(Number), room: 'lobby', msgid: expect.any(Number), recipients: 2 }]);
    expect(events).toContainEqual(['logout', { id: expect.any(Number), user: 'bob', reason: 'quit' }]);
    expect(events).toContainEqual(['logout', { id: expect.any(Number), user: 'carol', reason: 'server_shutdown' }]);
    expect(names.filter((n) => n === 'disconnect')).toHaveLength(4);
    expect(names).not.toContain('error');
  });

  it('a forged "from" is ignored: nobody can speak as someone else', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    alice.send({ type: 'say', text: 'I am bob, trust me', from: 'bob', ts: 1, id: 1 });
    expect(await bob.nextFrame()).toEqual({ type: 'message', from: 'alice', room: 'lobby', text: 'I am bob, trust me', ts: expect.any(Number), msgid: expect.any(Number) });
    expect((await bob.sync()).length).toBe(0);
    expect(await alice.nextFrame()).toEqual({ type: 'ok', id: 1, msgid: expect.any(Number) });
  });

  it('an abrupt drop gives presence offline (connection_lost) and leaves no ghost', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const carol = await chat.login('carol');
    await alice.next('presence');
    carol.destroy(); // no quit: a crash or a pulled cable
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'carol', status: 'offline', reason: 'connection_lost' });
    alice.send({ type: 'who', id: 1 });
    expect(await alice.nextFrame()).toEqual({ type: 'users', users: ['alice'], id: 1 });
    const again = await chat.login('carol'); // not already_online: the old session is gone
    expect(again.welcome.users).toEqual(['alice', 'carol']);
  });

  it('a client that half-closes without quit is logged out after its last frames are handled', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.connect('bob');
    await bob.next('hello');
    // login + say + EOF in one go, like `printf … | nc -N`: the login's async check must not lose the say.
    bob.socket.end('{"type":"login","user":"bob","password":"builder"}\n{"type":"say","text":"bye now"}\n');
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'bob', status: 'online' });
    expect(await alice.nextFrame()).toMatchObject({ type: 'message', from: 'bob', text: 'bye now' });
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'bob', status: 'offline', reason: 'connection_lost' });
    expect(await bob.next('welcome')).toMatchObject({ users: ['alice', 'bob'] });
    await bob.closed();
  });

  it('closes a quitting client that never closes its side, after the grace period', async () => {
    chat = await startTestServer({ limits: { closeGraceMs: 150 } });
    const alice = await chat.login('alice');
    alice.send({ type: 'quit', id: 'q' });
    expect(await alice.nextFrame()).toEqual({ type: 'bye', id: 'q' });
    await alice.closed(2000); // we never call end(): the server must not wait forever
  });

  it('reassembles a frame sent one byte at a time, and handles twenty frames in one write', async () => {
    chat = await startTestServer({ limits: { rateLimitBurst: 40 } });
    const alice = await chat.login('alice');
    const bob = await chat.connect('bob');
    bob.socket.setNoDelay(true);
    await bob.next('hello');
    const login = Buffer.from('{"type":"login","user":"bob","password":"builder","id":"slow"}\r\n');
    for (const byte of login) await bob.sendRaw(Buffer.of(byte));
    expect(await bob.nextFrame()).toEqual({ type: 'welcome', user: 'bob', users: ['alice', 'bob'], id: 'slow' });
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'bob', status: 'online' });

    const texts = Array.from({ length: 20 }, (_, i) => `message ${i + 1} ✓`);
    await bob.sendRaw(texts.map((text, i) => JSON.stringify({ type: 'say', text, id: i + 1 }) + '\n').join(''));
    for (const [i, text] of texts.entries()) {
      expect(await alice.nextFrame()).toMatchObject({ type: 'message', from: 'bob', text });
      expect(await bob.nextFrame()).toEqual({ type: 'ok', id: i + 1, msgid: expect.any(Number) });
    }
  });

  it('answers ping with pong and register with ok, before login too', async () => {
    chat = await startTestServer();
    const socket = await chat.connect();
    await socket.next('hello');
    const before = Date.now();
    socket.send({ type: 'ping', id: 'p' });
    const pong = await socket.nextFrame();
    expect(pong).toEqual({ type: 'pong', ts: expect.any(Number), id: 'p' });
    expectTimestampNearNow(pong, before);
    socket.send({ type: 'register', user: 'erin', password: 'erinpass', id: 'r' });
    expect(await socket.nextFrame()).toEqual({ type: 'ok', id: 'r' });
    socket.send({ type: 'login', user: 'erin', password: 'erinpass', id: 'l' });
    expect(await socket.nextFrame()).toEqual({ type: 'welcome', user: 'erin', users: ['erin'], id: 'l' });
  });
});

describe('server shutdown', () => {
  it('stop() tells every client (bye server_shutdown) and resolves once all are closed', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const stranger = await chat.connect('stranger');
    await stranger.next('hello');
    const stopped = chat.server.stop();
    expect(await alice.nextFrame()).toEqual({ type: 'bye', reason: 'server_shutdown' });
    expect(await stranger.nextFrame()).toEqual({ type: 'bye', reason: 'server_shutdown' });
    await within(stopped, 3000, () => 'stop() did not resolve');
    await alice.closed();
    await stranger.closed();
    expect(chat.server.connectionCount).toBe(0);
    await expect(FrameSocket.connect(chat.port)).rejects.toThrow();
  });
});
