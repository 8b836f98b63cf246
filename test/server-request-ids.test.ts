/**
 * End to end: the first frame a real connection gets, `hello`, advertises every extension of the
 * reference server. The rules about request ids, answers without an id and the order of errors
 * are played without sockets in core-request-ids.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FEATURES, PROTOCOL } from '../src/protocol/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';

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
