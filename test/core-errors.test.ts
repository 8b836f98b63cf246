/**
 * The core's error codes and input rules, played against ChatCore without sockets (see
 * test-support/playbook.ts). What needs a real socket (a frame too large for the stream, a client
 * that never reads, the connection limits, the verbose log) stays in server-errors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH } from '../src/protocol/index.ts';
import { errorFrame as error } from '../test-support/chat-server.ts';
import { play } from '../test-support/playbook.ts';

describe('core error codes', () => {
  it('bad_frame: not JSON, not an object, no type — and the connection stays', async () => {
    const script = play().connect('anon');
    for (const line of ['this is not json', '[1,2,3]', '"just a string"', '{"kind":"login"}', '{"type":42}', '{"type":"say"']) {
      script.sendRaw('anon', `${line}\n`).expectExact('anon', error('bad_frame'));
    }
    await script
      .sendRaw('anon', Buffer.from([0xff, 0xfe, 0x0a])) // not UTF-8
      .expectExact('anon', error('bad_frame'))
      .sendRaw('anon', '\n\r\n  \n') // blank lines are ignored, not errors
      .expectNothing('anon')
      .expectOpen('anon');
  });

  it('bad_frame: JSON nested deeper than MAX_NESTING_DEPTH levels, and the connection stays', async () => {
    // The frame object is level 1, so an unknown field holding 31 nested arrays is exactly the limit.
    const nested = (levels: number): string => `{"type":"ping","id":"d${levels}","x":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}\n`;
    await play()
      .connect('anon')
      .sendRaw('anon', nested(MAX_NESTING_DEPTH))
      .expectExact('anon', { type: 'pong', ts: expect.any(Number), id: `d${MAX_NESTING_DEPTH}` })
      .sendRaw('anon', nested(MAX_NESTING_DEPTH + 1))
      .expectExact('anon', error('bad_frame'))
      // Brackets inside a string are text, not nesting.
      .sendRaw('anon', `{"type":"ping","id":"s","x":"${'['.repeat(100)}"}\n`)
      .expectExact('anon', { type: 'pong', ts: expect.any(Number), id: 's' })
      // A 30,000-level line (what breaks a recursive parser) is just another bad_frame.
      .sendRaw('anon', `{"type":"ping","x":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}\n`)
      .expectExact('anon', error('bad_frame'))
      .send('anon', { type: 'ping', id: 'after' })
      .expect('anon', { type: 'pong', id: 'after' });
  });

  it('unknown_type, echoing the id', async () => {
    await play().connect('anon').send('anon', { type: 'dance', id: 'd1' }).expectExact('anon', error('unknown_type', 'd1'));
  });

  it('bad_request: a missing field or one of the wrong kind, echoing the id', async () => {
    await play()
      .connect('alice')
      .send('alice', { type: 'login', user: 'alice', id: 1 })
      .expectExact('alice', error('bad_request', 1))
      .send('alice', { type: 'login', user: 'no spaces allowed', password: 'x', id: 2 })
      .expectExact('alice', error('bad_request', 2))
      .login('alice')
      .send('alice', { type: 'say', text: '', id: 3 })
      .expectExact('alice', error('bad_request', 3))
      .send('alice', { type: 'say', text: 'x'.repeat(4001), id: 4 })
      .expectExact('alice', error('bad_request', 4))
      .send('alice', { type: 'say', text: 42, id: 5 })
      .expectExact('alice', error('bad_request', 5))
      .send('alice', { type: 'say', text: '👋'.repeat(4000), id: 6 }) // 4,000 code points is fine
      .expectExact('alice', { type: 'ok', id: 6, msgid: expect.any(Number) });
  });

  it('not_logged_in: say, who and quit before login', async () => {
    await play()
      .connect('anon')
      .send('anon', { type: 'say', text: 'hello?', id: 's' })
      .expectExact('anon', error('not_logged_in', 's'))
      .send('anon', { type: 'who', id: 'w' })
      .expectExact('anon', error('not_logged_in', 'w'))
      .send('anon', { type: 'quit', id: 'q' })
      .expectExact('anon', error('not_logged_in', 'q'))
      .expectOpen('anon');
  });

  it('before login only login, register and ping are served; every other extension frame is not_logged_in', async () => {
    const script = play()
      .connect('anon')
      .send('anon', { type: 'ping', id: 'p' })
      .expect('anon', { type: 'pong', id: 'p' })
      .send('anon', { type: 'register', user: 'erin', password: 'erinpass', id: 'r' })
      .expectExact('anon', { type: 'ok', id: 'r' });
    const extensionTypes = ['join', 'leave', 'rooms', 'history', 'file_offer', 'file_accept', 'file_decline', 'file_chunk', 'file_ack', 'file_end', 'file_result', 'file_cancel'];
    for (const type of extensionTypes) script.send('anon', { type, id: type }).expectExact('anon', error('not_logged_in', type));
    await script.send('anon', { type: 'login', user: 'erin', password: 'erinpass', since: 0, id: 'l' }).expect('anon', { type: 'welcome', user: 'erin', id: 'l' }, { type: 'history_end', count: 0 });
  });

  it('auth_failed keeps the connection open: retry on the same connection succeeds', async () => {
    await play()
      .connect('alice')
      .send('alice', { type: 'login', user: 'alice', password: 'wrong', id: 1 })
      .expectExact('alice', error('auth_failed', 1))
      .send('alice', { type: 'login', user: 'nobody', password: 'wonderland', id: 2 })
      .expectExact('alice', error('auth_failed', 2))
      .send('alice', { type: 'login', user: 'alice', password: 'wonderland', id: 3 })
      .expectExact('alice', { type: 'welcome', user: 'alice', users: ['alice'], id: 3 });
  });

  it('already_online for a second login of the same user; the first session is untouched', async () => {
    await play()
      .login('alice')
      .connect('alice#2')
      .send('alice#2', { type: 'login', user: 'alice', password: 'wonderland', id: 'again' })
      .expectExact('alice#2', error('already_online', 'again'))
      .send('alice', { type: 'who', id: 1 })
      .expectExact('alice', { type: 'users', users: ['alice'], id: 1 })
      // The second connection may log in as someone else.
      .login('alice#2', { user: 'bob' });
  });

  it('a second login on a logged-in connection is refused', async () => {
    await play().login('alice').send('alice', { type: 'login', user: 'bob', password: 'builder', id: 9 }).expectExact('alice', error('already_logged_in', 9));
  });

  it('login checks in a fixed order: already_logged_in, then the password (auth_failed), then already_online', async () => {
    await play()
      .login('alice')
      // A logged-in connection hears already_logged_in whatever the password.
      .send('alice', { type: 'login', user: 'bob', password: 'wrong', id: 1 })
      .expectExact('alice', error('already_logged_in', 1))
      // A wrong password never reveals that the user is online.
      .connect('other')
      .send('other', { type: 'login', user: 'alice', password: 'wrong', id: 2 })
      .expectExact('other', error('auth_failed', 2))
      .send('other', { type: 'login', user: 'alice', password: 'wonderland', id: 3 })
      .expectExact('other', error('already_online', 3));
  });

  it('register: ok, then user_exists; a too-short password is bad_request', async () => {
    await play()
      .connect('anon')
      .send('anon', { type: 'register', user: 'erin', password: 'erinpass', id: 1 })
      .expectExact('anon', { type: 'ok', id: 1 })
      .send('anon', { type: 'register', user: 'erin', password: 'another1', id: 2 })
      .expectExact('anon', error('user_exists', 2))
      .send('anon', { type: 'register', user: 'alice', password: 'whatever', id: 3 })
      .expectExact('anon', error('user_exists', 3))
      .send('anon', { type: 'register', user: 'frank', password: '123', id: 4 })
      .expectExact('anon', error('bad_request', 4))
      .check('the accounts', ({ accounts }) => expect(accounts.list()).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']));
  });

  it('register after login creates the account and leaves the session as it was', async () => {
    await play()
      .login('alice')
      .send('alice', { type: 'register', user: 'erin', password: 'erinpass', id: 1 })
      .expectExact('alice', { type: 'ok', id: 1 })
      .send('alice', { type: 'register', user: 'erin', password: 'erinpass', id: 2 })
      .expectExact('alice', error('user_exists', 2))
      .send('alice', { type: 'who', id: 3 })
      .expectExact('alice', { type: 'users', users: ['alice'], id: 3 })
      .connect('erin')
      .send('erin', { type: 'login', user: 'erin', password: 'erinpass', id: 4 })
      .expectExact('erin', { type: 'welcome', user: 'erin', users: ['alice', 'erin'], id: 4 })
      .expect('alice', { type: 'presence', user: 'erin', status: 'online' });
  });

  it('rate_limited: over the burst, frames are refused with rate_limited and the connection stays; a token comes back with time', async () => {
    const script = play({ limits: { rateLimitBurst: 5, rateLimitPerSecond: 20 } })
      .connect('anon')
      .sendRaw('anon', Array.from({ length: 10 }, (_, i) => `{"type":"ping","id":${i}}\n`).join(''));
    for (let i = 0; i < 5; i++) script.expect('anon', { type: 'pong', id: i });
    for (let i = 5; i < 10; i++) script.expectExact('anon', error('rate_limited', i));
    await script
      // 20 per second: one token every 50 ms.
      .advance(49)
      .send('anon', { type: 'ping', id: 'early' })
      .expectExact('anon', error('rate_limited', 'early'))
      .advance(50)
      .send('anon', { type: 'ping', id: 'later' })
      .expect('anon', { type: 'pong', id: 'later' })
      .expectOpen('anon');
  });

  it('rate_limited: a flood without ids costs one error, not one per frame', async () => {
    const script = play({ limits: { rateLimitBurst: 5, rateLimitPerSecond: 20 } })
      .connect('anon')
      .sendRaw('anon', '{"type":"ping"}\n'.repeat(30));
    for (let i = 0; i < 5; i++) script.expectExact('anon', { type: 'pong', ts: expect.any(Number) });
    await script.expectExact('anon', error('rate_limited')).expectNothing('anon').advance(50).send('anon', { type: 'ping', id: 'again' }).expect('anon', { type: 'pong', id: 'again' });
  });

  it('a connection that does not log in in time gets idle_timeout and is closed; a logged-in one is not timed out', async () => {
    await play({ limits: { loginTimeoutMs: 100 } })
      .connect('anon')
      .login('alice')
      .advance(99)
      .expectNothing('anon')
      .advance(1)
      .expectExact('anon', error('idle_timeout'))
      .expectClosed('anon')
      .advance(60_000)
      .expectOpen('alice');
  });
});

describe('fidelity: what is relayed live is what history replays', () => {
  it('a say with a lone surrogate is bad_request with its id, and is neither relayed nor stored', async () => {
    await play()
      .login('alice')
      .login('bob')
      .send('alice', { type: 'say', text: `half an emoji: ${JSON.parse('"\\ud83d"') as string}`, id: 'lone' })
      .expectExact('alice', { ...error('bad_request', 'lone'), message: 'field "text" of "say" contains a lone surrogate \\ud83d: not valid Unicode' })
      .send('alice', { type: 'say', text: 'whole 👋', id: 'whole' })
      .expectExact('alice', { type: 'ok', id: 'whole', msgid: 1 })
      .expect('bob', { type: 'message', from: 'alice', text: 'whole 👋', msgid: 1 })
      .login('carol')
      .expect('carol', { type: 'message', text: 'whole 👋', history: true })
      .expectExact('carol', { type: 'history_end', count: 1, last_msgid: 1 });
  });

  it('an unknown type as long as a frame gets unknown_type with its id, not internal', async () => {
    await play()
      .connect('anon')
      .send('anon', { type: 'x'.repeat(65_500), id: 'long' })
      .expectExact('anon', error('unknown_type', 'long'));
  });

  it('a line starting with a UTF-8 BOM is bad_frame naming it, and the connection keeps chatting', async () => {
    await play()
      .login('alice')
      .login('bob')
      .sendRaw('alice', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"type":"say","text":"from Notepad","id":1}\r\n')]))
      .expectExact('alice', { ...error('bad_frame'), message: expect.stringContaining('byte order mark') })
      .send('alice', { type: 'say', text: 'without a BOM', id: 2 })
      .expect('alice', { type: 'ok', id: 2 })
      .expect('bob', { type: 'message', from: 'alice', text: 'without a BOM' });
  });
});
