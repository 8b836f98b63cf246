/**
 * End to end: the reference server's side of the contract's loose ends about who gets what —
 * `hello` advertises its extensions, and a request `id` is echoed unchanged when valid and
 * refused (never echoed) when it is not a string of ≤ 64 characters or an integer within ±(2^53−1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FEATURES, PROTOCOL } from '../src/protocol/index.ts';
import { errorFrame as error, startTestServer, type TestServer } from './helpers/chat-server.ts';

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
