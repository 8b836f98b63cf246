/**
 * End to end over TCP: the robustness rules that need a real socket: a bad frame never disturbs
 * anyone else, a too-large frame closes only its own connection, a flood or a client that never
 * reads is contained, the connection limit, the verbose log. The error codes themselves are rules
 * of the core, played without sockets in core-errors.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES } from '../src/protocol/index.ts';
import type { ServerErrorEvent } from '../src/server/index.ts';
import { anonymous, errorFrame as error, startTestServer, threeUsers, type TestServer } from '../test-support/chat-server.ts';
import { within } from '../test-support/promises.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

describe('fuzz', () => {
  it('answers every one of 400 random frames (each with an id) and stays up', async () => {
    chat = await startTestServer({ limits: { rateLimitBurst: 1e6, rateLimitPerSecond: 1e6 } });
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const values = [null, true, 0, -1, 1e308, '', 'alice', 'lobby', 'x'.repeat(5000), '👋', [], ['alice'], {}, { user: 'bob' }];
    const socket = await anonymous(chat, 'fuzzer');
    const bystander = await chat.login('bob');
    for (let id = 1; id <= 400; id++) {
      const frame: Record<string, unknown> = { type: pick(['login', 'register', 'say', 'who', 'ping', 'nope', 'login']), id };
      for (const field of ['user', 'password', 'text', 'to', 'room', 'from']) if (random() < 0.5) frame[field] = pick(values);
      if (random() < 0.2) frame.password = 'wonderland';
      if (random() < 0.2) frame.text = 'hello';
      socket.send(frame);
    }
    for (let id = 1; id <= 400; id++) {
      const answer = await socket.next((f) => f.id === id);
      expect(['welcome', 'ok', 'error', 'users', 'pong']).toContain(answer.type);
      if (answer.type === 'error') expect(['bad_request', 'unknown_type', 'not_logged_in', 'auth_failed', 'already_logged_in', 'user_exists', 'unknown_room']).toContain(answer.code);
    }
    bystander.send({ type: 'ping', id: 'alive' });
    expect(await bystander.next('pong')).toMatchObject({ id: 'alive' });
  });
});

describe('logging', () => {
  it('the verbose log shows connection events and never a password, even from a malformed login', async () => {
    const lines: string[] = [];
    chat = await startTestServer({ verbose: true, log: (line) => lines.push(line) });
    const socket = await anonymous(chat, 'alice');
    await socket.sendRaw('{"type":"login","user":"alice","password":"wonderland" oops}\n');
    expect(await socket.nextFrame()).toEqual(error('bad_frame'));
    socket.send({ type: 'login', user: 'alice', password: 'not-wonderland' });
    expect(await socket.nextFrame()).toEqual(error('auth_failed'));
    socket.send({ type: 'login', user: 'alice', password: 'wonderland' });
    await socket.next('welcome');
    socket.send({ type: 'quit' });
    await socket.next('bye');
    socket.end();
    await socket.closed();
    await chat.stop();
    const log = lines.join('\n');
    expect(log).not.toMatch(/wonderland/);
    for (const event of ['connect from 127.0.0.1:', 'error bad_frame', 'error auth_failed', 'login alice', 'logout alice (quit)', 'disconnect 127.0.0.1:']) {
      expect(log).toContain(event);
    }
  });
});

describe('containment: one client never disturbs the others', () => {
  it('frame_too_large: the error, then only that connection closes; the others keep chatting', async () => {
    chat = await startTestServer();
    const [alice, bob, carol] = await threeUsers(chat);
    await carol.sendRaw(`{"type":"say","text":"${'x'.repeat(MAX_FRAME_BYTES)}"}\n`);
    expect(await carol.nextFrame()).toEqual(error('frame_too_large'));
    await carol.closed();
    expect(await alice.nextFrame()).toEqual({ type: 'presence', user: 'carol', status: 'offline', reason: 'frame_too_large' });
    expect(await bob.nextFrame()).toEqual({ type: 'presence', user: 'carol', status: 'offline', reason: 'frame_too_large' });
    alice.send({ type: 'say', text: 'still here?', id: 1 });
    expect(await bob.nextFrame()).toMatchObject({ type: 'message', from: 'alice', text: 'still here?' });
    expect(await alice.nextFrame()).toEqual({ type: 'ok', id: 1, msgid: expect.any(Number) });
  });

  it('a frame of exactly 65,536 bytes (newline included) is accepted', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat);
    const head = '{"type":"ping","id":"big","pad":"';
    const tail = '"}\n';
    await socket.sendRaw(head + 'p'.repeat(MAX_FRAME_BYTES - head.length - tail.length) + tail);
    expect(await socket.nextFrame()).toEqual({ type: 'pong', ts: expect.any(Number), id: 'big' });
  });

  it('a flood of garbage from one client leaves the others’ chat intact', async () => {
    chat = await startTestServer();
    const errors: ServerErrorEvent[] = [];
    chat.server.events.on('error', (e) => errors.push(e));
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    const flooder = await chat.login('carol');
    const garbage = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = i % 97 === 96 ? 0x0a : 0x21 + ((i * 7919) % 90);
    const flooding = flooder.sendRaw(garbage);
    for (let i = 1; i <= 20; i++) {
      alice.send({ type: 'say', text: `chat ${i}`, id: i });
      expect(await bob.next('message')).toMatchObject({ from: 'alice', text: `chat ${i}` });
      expect(await alice.next('ok')).toEqual({ type: 'ok', id: i, msgid: expect.any(Number) });
    }
    await flooding;
    bob.send({ type: 'say', text: 'and back', id: 'b' });
    expect(await alice.next('message')).toMatchObject({ from: 'bob', text: 'and back' });
    expect(errors.every((e) => e.id !== undefined)).toBe(true); // no server-level failure
    expect(errors.some((e) => e.code === 'rate_limited')).toBe(true);
  });

  it('output_overflow: a client that never reads is cut off; the others keep receiving', async () => {
    const maxOutputBytes = 512 * 1024; // above one turn's burst to a reader (10 × 16 KB)
    chat = await startTestServer({ limits: { maxOutputBytes, rateLimitPerSecond: 1e6, rateLimitBurst: 1e6 } });
    const overflow = new Promise<ServerErrorEvent>((resolve) => chat!.server.events.on('error', (e) => e.code === 'output_overflow' && resolve(e)));
    let overflowed = false;
    void overflow.then(() => (overflowed = true));
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    const dave = await chat.login('dave');
    dave.socket.pause(); // dave never reads: the kernel buffers fill, then his outbox
    await alice.next('presence');
    await alice.next('presence');
    await bob.next('presence');

    const text = '🐘'.repeat(4000); // a ~16 KB frame
    let sent = 0;
    while (!overflowed && sent < 3000) {
      const batch = Array.from({ length: 10 }, () => JSON.stringify({ type: 'say', text, id: ++sent }) + '\n').join('');
      await alice.sendRaw(batch);
      await alice.next((f) => f.type === 'ok' && f.id === sent, 5000);
    }
    const event = await within(overflow, 1000, () => `no output_overflow after ${sent} messages`);
    expect(event).toMatchObject({ user: 'dave', fatal: true });
    expect(await alice.next('presence')).toEqual({ type: 'presence', user: 'dave', status: 'offline', reason: 'output_overflow' });

    // bob, who reads, got every single message, and still gets new ones.
    for (let i = 1; i <= sent; i++) expect((await bob.next('message', 5000)).text).toBe(text);
    alice.send({ type: 'say', text: 'after the cut', id: 'last' });
    expect(await bob.next('message')).toMatchObject({ from: 'alice', text: 'after the cut' });

    // dave, once he reads again, finds the output_overflow error last, then the close.
    dave.socket.resume();
    await dave.closed(5000);
    const last = dave.received.at(-1);
    expect(last).toEqual(error('output_overflow'));
    expect(dave.received.filter((f) => f.type === 'message').length).toBeLessThan(sent);
  });

  it('too_many_connections over the limit; the others are unaffected', async () => {
    chat = await startTestServer({ limits: { maxConnections: 2 } });
    const alice = await chat.login('alice');
    await anonymous(chat, 'second');
    const third = await chat.connect('third');
    expect(await third.nextFrame()).toEqual(error('too_many_connections'));
    await third.closed();
    expect(third.received, 'the error replaces hello').toEqual([error('too_many_connections')]);
    alice.send({ type: 'ping', id: 1 });
    expect(await alice.nextFrame()).toMatchObject({ type: 'pong', id: 1 });
  });
});
