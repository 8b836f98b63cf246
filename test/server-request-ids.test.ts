/**
 * End to end: the reference server's side of the contract's loose ends about who gets what —
 * `hello` advertises its extensions, and a request `id` is echoed unchanged when valid and
 * refused (never echoed) when it is not a string of ≤ 64 characters or an integer within ±(2^53−1);
 * `ok` without an id only for `register` and `file_offer`; one error per frame, in the documented order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FEATURES, PROTOCOL } from '../src/protocol/index.ts';
import { anonymous, errorFrame as error, startTestServer, threeUsers, type TestServer } from './helpers/chat-server.ts';
import { sha256Hex, takeHistory } from './helpers/extensions.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

describe('hello.features', () => {
  it('lists every extension the reference server supports', async () => {
    chat = await startTestServer();
    const socket = await chat.connect('alice');
    expect(await socket.nextFrame()).toEqual({ type: 'hello', protocol: PROTOCOL, server: expect.any(String), features: [...FEATURES] });
  });
});

describe('request ids', () => {
  it('echoes each allowed kind unchanged: strings up to 64 characters, integers within ±(2^53−1)', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    for (const id of ['m-1', '', '👋'.repeat(64), 0, -42, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
      alice.send({ type: 'ping', id });
      expect(await alice.nextFrame()).toEqual({ type: 'pong', ts: expect.any(Number), id });
    }
  });

  it('answers any other id with bad_request naming "id", without an id, and does nothing else', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    for (const id of [{ n: 1 }, [1], true, null, 'x'.repeat(65), 1.5, 2 ** 53, -(2 ** 53)]) {
      alice.send({ type: 'say', text: `with id ${JSON.stringify(id)}`, id });
      const answer = await alice.nextFrame();
      expect(answer, JSON.stringify(id)).toEqual(error('bad_request'));
      expect(answer.message).toContain('"id"');
    }
    expect(await bob.sync()).toEqual([]);
  });
});

describe('extension answers without an id', () => {
  it('register and file_offer are always answered; say, leave and the other file frames only with an id', async () => {
    chat = await startTestServer();
    const newcomer = await anonymous(chat, 'dora');
    newcomer.send({ type: 'register', user: 'dora', password: 'explorer' });
    expect(await newcomer.nextFrame()).toEqual({ type: 'ok' });
    const [alice, bob] = await threeUsers(chat);
    alice.send({ type: 'say', text: 'no id' });
    alice.send({ type: 'say', to: 'bob', text: 'no id either' });
    alice.send({ type: 'join', room: 'team' });
    expect(await alice.nextFrame()).toEqual({ type: 'users', room: 'team', users: ['alice'] });
    await takeHistory(alice);
    alice.send({ type: 'leave', room: 'team' });
    const file = Buffer.from('x');
    alice.send({ type: 'file_offer', to: 'bob', name: 'x', size: 1, sha256: sha256Hex(file) });
    const offered = await alice.nextFrame();
    expect(offered).toEqual({ type: 'ok', transfer: expect.any(String), users: ['bob'] });
    await bob.next('file_offer');
    bob.send({ type: 'file_accept', transfer: offered.transfer });
    expect(await alice.nextFrame()).toEqual({ type: 'file_accept', transfer: offered.transfer, user: 'bob' });
    expect(await bob.sync()).toHaveLength(2); // the two messages, and no ok for the accept
    expect(await alice.sync()).toEqual([]);
  });
});

describe('the order of extension errors', () => {
  it('fields, then what they name, then membership and state, then limits', async () => {
    chat = await startTestServer({ limits: { maxFileBytes: 10, maxTransfersPerUser: 1 } });
    const [alice, bob] = await threeUsers(chat);
    const sha256 = sha256Hex(Buffer.alloc(0));
    const offer = (fields: Record<string, unknown>, id: string) => alice.send({ type: 'file_offer', name: 'f', size: 1, sha256, id, ...fields });
    offer({ room: 'nowhere', size: 11 }, 'size-before-room');
    expect(await alice.nextFrame()).toEqual(error('file_too_large', 'size-before-room'));
    offer({ to: 'alice', room: 'nowhere' }, 'fields-first');
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'fields-first'));
    alice.send({ type: 'say', to: 'alice', room: 'nowhere', text: 'x', id: 'both' });
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'both'));
    alice.send({ type: 'leave', room: 'lobby', id: 'lobby' });
    expect(await alice.nextFrame()).toEqual(error('bad_request', 'lobby'));
    offer({ to: 'bob' }, 'one');
    await alice.next('ok');
    await bob.next('file_offer');
    bob.send({ type: 'join', room: 'team', id: 'j' });
    await bob.next('users');
    await takeHistory(bob);
    // Over maxTransfersPerUser, but not in the room: membership comes before the limit.
    offer({ room: 'team' }, 'member-before-limit');
    expect(await alice.nextFrame()).toEqual(error('not_in_room', 'member-before-limit'));
    offer({ to: 'bob' }, 'limit-last');
    expect(await alice.nextFrame()).toEqual(error('rate_limited', 'limit-last'));
  });
});
