/**
 * End to end: connections per address are capped when the server accepts them (loopback exempt
 * unless configured otherwise). The limits on what a connection sends (rate limiting, login
 * throttling) are rules of the core, played with a manual clock in core-limits.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopback } from '../src/server/index.ts';
import { anonymous, errorFrame as error, startTestServer, type TestServer } from '../test-support/chat-server.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

describe('connections per address', () => {
  it('over maxConnectionsPerAddress: too_many_connections, then close; a slot frees when one closes', async () => {
    chat = await startTestServer({ limits: { maxConnectionsPerAddress: 2, exemptLoopback: false } });
    const alice = await chat.login('alice');
    const second = await anonymous(chat, 'second');
    const third = await chat.connect('third');
    const refused = await third.nextFrame();
    expect(refused).toEqual(error('too_many_connections'));
    expect(refused.message).toContain('127.0.0.1');
    await third.closed();
    alice.send({ type: 'ping', id: 1 });
    expect(await alice.nextFrame()).toMatchObject({ type: 'pong', id: 1 });

    second.end();
    await second.closed();
    // The server notices the close on its side too; then a new connection is welcome again.
    for (let i = 0; i < 50 && chat.server.connectionCount > 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const fourth = await chat.connect('fourth');
    expect(await fourth.nextFrame()).toMatchObject({ type: 'hello' });
  });

  it('loopback is exempt by default', async () => {
    chat = await startTestServer({ limits: { maxConnectionsPerAddress: 2 } });
    const sockets = await Promise.all(Array.from({ length: 5 }, (_, i) => anonymous(chat!, `c${i}`)));
    for (const socket of sockets) expect(socket.isOpen).toBe(true);
    expect(chat.server.connectionCount).toBe(5);
  });

  it('recognises loopback addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address), address).toBe(true);
    for (const address of ['10.0.0.1', '192.168.1.127', '::ffff:10.0.0.1', 'fe80::1', '?']) expect(isLoopback(address), address).toBe(false);
  });
});
