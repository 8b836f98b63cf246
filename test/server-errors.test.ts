/**
 * End to end: every core error code of chatlab/1, and the robustness rules: a bad frame never
 * disturbs anyone else, a too-large frame closes only its own connection, a flood or a client
 * that never reads is contained.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, MAX_NESTING_DEPTH, type RawFrame } from '../src/protocol/index.ts';
import type { ServerErrorEvent } from '../src/server/index.ts';
import { anonymous, errorFrame as error, startTestServer, threeUsers, type TestServer } from './helpers/chat-server.ts';
import { withTimeout, type FrameSocket } from './helpers/frame-socket.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

describe('core error codes', () => {
  it('bad_frame: not JSON, not an object, no type — and the connection stays', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat);
    for (const line of ['this is not json', '[1,2,3]', '"just a string"', '{"kind":"login"}', '{"type":42}', '{"type":"say"']) {
      await socket.sendRaw(`${line}\n`);
      expect(await socket.nextFrame(), line).toEqual(error('bad_frame'));
    }
    await socket.sendRaw(Buffer.from([0xff, 0xfe, 0x0a])); // not UTF-8
    expect(await socket.nextFrame()).toEqual(error('bad_frame'));
    await socket.sendRaw('\n\r\n  \n'); // blank lines are ignored, not errors
    expect(await socket.sync()).toEqual([]);
  });

  it('bad_frame: JSON nested deeper than MAX_NESTING_DEPTH levels, and the connection stays', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat);
    // The frame object is level 1, so an unknown field holding 31 nested arrays is exactly the limit.
    const nested = (levels: number): string => `{"type":"ping","id":"d${levels}","x":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}\n`;
    await socket.sendRaw(nested(MAX_NESTING_DEPTH));
    expect(await socket.nextFrame()).toEqual({ type: 'pong', ts: expect.any(Number), id: `d${MAX_NESTING_DEPTH}` });
    await socket.sendRaw(nested(MAX_NESTING_DEPTH + 1));
    expect(await socket.nextFrame()).toEqual(error('bad_frame'));
    // Brackets inside a string are text, not nesting.
    await socket.sendRaw(`{"type":"ping","id":"s","x":"${'['.repeat(100)}"}\n`);
    expect(await socket.nextFrame()).toEqual({ type: 'pong', ts: expect.any(Number), id: 's' });
    // A 30,000-level line (what breaks a recursive parser) is just another bad_frame.
    await socket.sendRaw(`{"type":"ping","x":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}\n`);
    expect(await socket.nextFrame()).toEqual(error('bad_frame'));
    socket.send({ type: 'ping', id: 'after' });
    expect(await socket.nextFrame()).toMatchObject({ type: 'pong', id: 'after' });
  });

  it('unknown_type, echoing the id', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat);
    socket.send({ type: 'dance', id: 'd1' });
    expect(await socket.nextFrame()).toEqual(error('unknown_type', 'd1'));
  });

  it('bad_request: a missing field or one of the wrong kind, echoing the id', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat, 'alice');
    socket.send({ type: 'login', user: 'alice', id: 1 });
    expect(await socket.nextFrame()).toEqual(error('bad_request', 1));
    socket.send({ type: 'login', user: 'no spaces allowed', password: 'x', id: 2 });
    expect(await socket.nextFrame()).toEqual(error('bad_request', 2));
    socket.send({ type: 'login', user: 'alice', password: 'wonderland' });
    await socket.next('welcome');
    socket.send({ type: 'say', text: '', id: 3 });
    expect(await socket.nextFrame()).toEqual(error('bad_request', 3));
    socket.send({ type: 'say', text: 'x'.repeat(4001), id: 4 });
    expect(await socket.nextFrame()).toEqual(error('bad_request', 4));
    socket.send({ type: 'say', text: 42, id: 5 });
    expect(await socket.nextFrame()).toEqual(error('bad_request', 5));
    socket.send({ type: 'say', text: '👋'.repeat(4000), id: 6 }); // 4,000 code points is fine
    expect(await socket.nextFrame()).toEqual({ type: 'ok', id: 6, msgid: expect.any(Number) });
  });

  it('not_logged_in: say, who and quit before login', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat);
    socket.send({ type: 'say', text: 'hello?', id: 's' });
    expect(await socket.nextFrame()).toEqual(error('not_logged_in', 's'));
    socket.send({ type: 'who', id: 'w' });
    expect(await socket.nextFrame()).toEqual(error('not_logged_in', 'w'));
    socket.send({ type: 'quit', id: 'q' });
    expect(await socket.nextFrame()).toEqual(error('not_logged_in', 'q'));
    expect(socket.isOpen).toBe(true);
  });

  it('before login only login, register and ping are served; every other extension frame is not_logged_in', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat);
    socket.send({ type: 'ping', id: 'p' });
    expect(await socket.nextFrame()).toMatchObject({ type: 'pong', id: 'p' });
    socket.send({ type: 'register', user: 'erin', password: 'erinpass', id: 'r' });
    expect(await socket.nextFrame()).toEqual({ type: 'ok', id: 'r' });
    const extensionTypes = ['join', 'leave', 'rooms', 'history', 'file_offer', 'file_accept', 'file_decline', 'file_chunk', 'file_ack', 'file_end', 'file_result', 'file_cancel'];
    for (const type of extensionTypes) {
      socket.send({ type, id: type });
      expect(await socket.nextFrame(), type).toEqual(error('not_logged_in', type));
    }
    socket.send({ type: 'login', user: 'erin', password: 'erinpass', since: 0, id: 'l' });
    expect(await socket.nextFrame()).toMatchObject({ type: 'welcome', user: 'erin', id: 'l' });
  });

  it('auth_failed keeps the connection open: retry on the same connection succeeds', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat, 'alice');
    socket.send({ type: 'login', user: 'alice', password: 'wrong', id: 1 });
    expect(await socket.nextFrame()).toEqual(error('auth_failed', 1));
    socket.send({ type: 'login', user: 'nobody', password: 'wonderland', id: 2 });
    expect(await socket.nextFrame()).toEqual(error('auth_failed', 2));
    socket.send({ type: 'login', user: 'alice', password: 'wonderland', id: 3 });
    expect(await socket.nextFrame()).toEqual({ type: 'welcome', user: 'alice', users: ['alice'], id: 3 });
  });

  it('already_online for a second login of the same user; the first session is untouched', async () => {
    chat = await startTestServer();
    const first = await chat.login('alice');
    const second = await anonymous(chat, 'alice#2');
    second.send({ type: 'login', user: 'alice', password: 'wonderland', id: 'again' });
    expect(await second.nextFrame()).toEqual(error('already_online', 'again'));
    first.send({ type: 'who', id: 1 });
    expect(await first.nextFrame()).toEqual({ type: 'users', users: ['alice'], id: 1 });
    // The second connection may log in as someone else.
    second.send({ type: 'login', user: 'bob', password: 'builder' });
    expect(await second.nextFrame()).toMatchObject({ type: 'welcome', user: 'bob' });
  });

  it('a second login on a logged-in connection is refused', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    alice.send({ type: 'login', user: 'bob', password: 'builder', id: 9 });
    expect(await alice.nextFrame()).toEqual(error('already_logged_in', 9));
  });

  it('login checks in a fixed order: already_logged_in, then the password (auth_failed), then already_online', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    // A logged-in connection hears already_logged_in whatever the password.
    alice.send({ type: 'login', user: 'bob', password: 'wrong', id: 1 });
    expect(await alice.nextFrame()).toEqual(error('already_logged_in', 1));
    // A wrong password never reveals that the user is online.
    const other = await anonymous(chat, 'other');
    other.send({ type: 'login', user: 'alice', password: 'wrong', id: 2 });
    expect(await other.nextFrame()).toEqual(error('auth_failed', 2));
    other.send({ type: 'login', user: 'alice', password: 'wonderland', id: 3 });
    expect(await other.nextFrame()).toEqual(error('already_online', 3));
  });

  it('register: ok, then user_exists; a too-short password is bad_request', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat);
    socket.send({ type: 'register', user: 'erin', password: 'erinpass', id: 1 });
    expect(await socket.nextFrame()).toEqual({ type: 'ok', id: 1 });
    socket.send({ type: 'register', user: 'erin', password: 'another1', id: 2 });
    expect(await socket.nextFrame()).toEqual(error('user_exists', 2));
    socket.send({ type: 'register', user: 'alice', password: 'whatever', id: 3 });
    expect(await socket.nextFrame()).toEqual(error('user_exists', 3));
    socket.send({ type: 'register', user: 'frank', password: '123', id: 4 });
    expect(await socket.nextFrame()).toEqual(error('bad_request', 4));
    expect(chat.server.accounts.list()).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']);
  });

  it('register after login creates the account and leaves the session as it was', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    alice.send({ type: 'register', user: 'erin', password: 'erinpass', id: 1 });
    expect(await alice.nextFrame()).toEqual({ type: 'ok', id: 1 });
    alice.send({ type: 'register', user: 'erin', password: 'erinpass', id: 2 });
    expect(await alice.nextFrame()).toEqual(error('user_exists', 2));
    alice.send({ type: 'who', id: 3 });
    expect(await alice.nextFrame()).toEqual({ type: 'users', users: ['alice'], id: 3 });
    const erin = await anonymous(chat, 'erin');
    erin.send({ type: 'login', user: 'erin', password: 'erinpass', id: 4 });
    expect(await erin.nextFrame()).toEqual({ type: 'welcome', user: 'erin', users: ['alice', 'erin'], id: 4 });
  });

  it('rate_limited: over the burst, frames are refused with rate_limited and the connection stays', async () => {
    chat = await startTestServer({ limits: { rateLimitBurst: 5, rateLimitPerSecond: 20 } });
    const socket = await anonymous(chat);
    await socket.sendRaw(Array.from({ length: 10 }, (_, i) => `{"type":"ping","id":${i}}\n`).join(''));
    const answers = await Promise.all(Array.from({ length: 10 }, () => socket.nextFrame()));
    expect(answers.filter((f) => f.type === 'pong')).toHaveLength(5);
    const refused = answers.filter((f) => f.type === 'error');
    expect(refused.length).toBeGreaterThanOrEqual(4); // a token may trickle back in meanwhile
    for (const frame of refused) expect(frame).toEqual(error('rate_limited', frame.id as number));
    // Once tokens refill, the same connection is served again.
    expect(await pingUntilServed(socket)).toMatchObject({ type: 'pong' });
  });

  it('rate_limited: a flood without ids costs one error, not one per frame', async () => {
    chat = await startTestServer({ limits: { rateLimitBurst: 5, rateLimitPerSecond: 20 } });
    const socket = await anonymous(chat);
    await socket.sendRaw('{"type":"ping"}\n'.repeat(30));
    await pingUntilServed(socket);
    const answers = socket.received.slice(1, -1).filter((f) => f.id === undefined);
    expect(answers.filter((f) => f.type === 'pong').length).toBeGreaterThanOrEqual(5);
    expect(answers.filter((f) => f.type === 'error')).toEqual([error('rate_limited')]);
  });
});

/** Pings until one is answered with pong (the bucket refills over time); bounded. */
async function pingUntilServed(socket: FrameSocket): Promise<RawFrame> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const id = `retry-${attempt}`;
    socket.send({ type: 'ping', id });
    const answer = await socket.next((f) => f.id === id);
    if (answer.type === 'pong') return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('never served again after rate limiting');
}

describe('fidelity: what is relayed live is what history replays', () => {
  it('a say with a lone surrogate is bad_request with its id, and is neither relayed nor stored', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    alice.send({ type: 'say', text: `half an emoji: ${JSON.parse('"\\ud83d"') as string}`, id: 'lone' });
    const refused = await alice.nextFrame();
    expect(refused).toEqual(error('bad_request', 'lone'));
    expect(refused.message).toBe('field "text" of "say" contains a lone surrogate \\ud83d: not valid Unicode');
    alice.send({ type: 'say', text: 'whole 👋', id: 'whole' });
    expect(await alice.nextFrame()).toEqual({ type: 'ok', id: 'whole', msgid: 1 });
    expect(await bob.nextFrame()).toMatchObject({ type: 'message', from: 'alice', text: 'whole 👋', msgid: 1 });
    const carol = await chat.login('carol');
    expect(await carol.next('message')).toMatchObject({ text: 'whole 👋', history: true });
    expect(await carol.next('history_end')).toEqual({ type: 'history_end', count: 1, last_msgid: 1 });
  });

  it('an unknown type as long as a frame gets unknown_type with its id, not internal', async () => {
    chat = await startTestServer();
    const socket = await anonymous(chat);
    socket.send({ type: 'x'.repeat(65_500), id: 'long' });
    expect(await socket.nextFrame()).toEqual(error('unknown_type', 'long'));
  });

  it('a line starting with a UTF-8 BOM is bad_frame naming it, and the connection keeps chatting', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    await alice.sendRaw(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"type":"say","text":"from Notepad","id":1}\r\n')]));
    const refused = await alice.nextFrame();
    expect(refused).toEqual(error('bad_frame'));
    expect(refused.message).toContain('byte order mark');
    alice.send({ type: 'say', text: 'without a BOM', id: 2 });
    expect(await alice.nextFrame()).toMatchObject({ type: 'ok', id: 2 });
    expect(await bob.nextFrame()).toMatchObject({ type: 'message', from: 'alice', text: 'without a BOM' });
  });
});

describe('fuzz', () => {
  it('answers every one of 400 random frames (each with an id) and stays up', async () => {
    chat = await startTestServer({ limits: { rateLimitBurst: 1e6, rateLimitPerSecond: 1e6 } });
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
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
    const overflow = new Promise<ServerErrorEvent>((resolve) =>
      chat!.server.events.on('error', (e) => e.code === 'output_overflow' && resolve(e)),
    );
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
    const event = await withTimeout(overflow, 1000, () => `no output_overflow after ${sent} messages`);
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

  it('a connection that does not log in in time gets idle_timeout and is closed', async () => {
    chat = await startTestServer({ limits: { loginTimeoutMs: 100 } });
    const socket = await anonymous(chat);
    expect(await socket.nextFrame(2000)).toEqual(error('idle_timeout'));
    await socket.closed();
    const alice = await chat.login('alice'); // logged-in users are not timed out
    expect(alice.isOpen).toBe(true);
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
