/**
 * End to end: the limits that keep a room usable. A message flood is rate limited (burst, then
 * `rate_limited`, the connection stays); password guessing is throttled per connection and per
 * address; connections per address are capped (loopback exempt unless configured otherwise).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import { isLoopback } from '../src/server/index.ts';
import { anonymous, errorFrame as error, startTestServer, type TestServer } from './helpers/chat-server.ts';
import { type FrameSocket } from './helpers/frame-socket.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

async function attempt(socket: FrameSocket, user: string, password: string, id: string | number): Promise<RawFrame> {
  socket.send({ type: 'login', user, password, id });
  return socket.next((f) => f.id === id);
}

/** Retries a login until it is not throttled any more (the bucket refills); bounded. */
async function loginWhenAllowed(socket: FrameSocket, user: string, password: string): Promise<RawFrame> {
  const deadline = Date.now() + 5_000;
  for (let i = 0; Date.now() < deadline; i++) {
    const answer = await attempt(socket, user, password, `retry-${i}`);
    if (answer.type !== 'error' || answer.code !== 'rate_limited') return answer;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  throw new Error('still throttled after 5 s');
}

describe('message rate limit', () => {
  it('a burst of says passes, the rest is refused rate_limited; the connection stays and recovers', async () => {
    // A burst of 6: the login takes one token, 5 are left for the flood.
    chat = await startTestServer({ limits: { rateLimitBurst: 6, rateLimitPerSecond: 10 } });
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    await alice.sendRaw(Array.from({ length: 12 }, (_, i) => JSON.stringify({ type: 'say', text: `flood ${i}`, id: i }) + '\n').join(''));
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => alice.next((f) => f.id === i)));
    const accepted = answers.filter((f) => f.type === 'ok').map((f) => f.id);
    expect(accepted.length).toBeGreaterThanOrEqual(5);
    expect(accepted.length).toBeLessThan(12);
    for (const refused of answers.filter((f) => f.type === 'error')) expect(refused).toEqual(error('rate_limited', refused.id as number));
    // bob got exactly the accepted ones, nothing of the refused ones.
    const relayed: unknown[] = [];
    for (let i = 0; i < accepted.length; i++) relayed.push((await bob.next('message')).text);
    expect(relayed).toEqual(accepted.map((i) => `flood ${String(i)}`));
    expect(await bob.sync()).toEqual([]);
    // The connection stays open and is served again once the bucket refills.
    for (let i = 0; i < 50; i++) {
      alice.send({ type: 'say', text: 'calm now', id: `later-${i}` });
      const answer = await alice.next((f) => f.id === `later-${i}`);
      if (answer.type === 'ok') break;
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    expect(await bob.next('message')).toMatchObject({ text: 'calm now' });
    expect(alice.isOpen).toBe(true);
  });

  it('is per connection: another connection from the same address keeps its own budget', async () => {
    chat = await startTestServer({ limits: { rateLimitBurst: 3, rateLimitPerSecond: 0.01 } }); // no refill during the test
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    await alice.sendRaw(Array.from({ length: 4 }, (_, i) => JSON.stringify({ type: 'say', text: `flood ${i}`, id: i }) + '\n').join(''));
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => alice.next((f) => f.id === i)));
    expect(answers.some((f) => f.type === 'error' && f.code === 'rate_limited')).toBe(true);
    // bob (also 127.0.0.1, one token spent on its login) is served at once.
    bob.send({ type: 'say', text: 'my own budget', id: 'b1' });
    bob.send({ type: 'say', text: 'still mine', id: 'b2' });
    expect(await bob.next((f) => f.id === 'b1')).toMatchObject({ type: 'ok', id: 'b1' });
    expect(await bob.next((f) => f.id === 'b2')).toMatchObject({ type: 'ok', id: 'b2' });
  });
});

describe('login throttling', () => {
  // Windows of seconds, not hundreds of ms: a token comes back every window ÷ attempts, and on a
  // loaded machine the attempts (each a password hash) must all land before the first one does.
  it('per connection: after the allowed failures even the right password waits; other connections are unaffected', async () => {
    chat = await startTestServer({ limits: { loginAttemptsPerConnection: 2, loginAttemptsPerAddress: 100, loginAttemptWindowMs: 3_000 } });
    const guesser = await anonymous(chat, 'guesser');
    expect(await attempt(guesser, 'alice', 'guess1', 1)).toEqual(error('auth_failed', 1));
    expect(await attempt(guesser, 'alice', 'guess2', 2)).toEqual(error('auth_failed', 2));
    const throttled = await attempt(guesser, 'alice', 'wonderland', 3);
    expect(throttled).toEqual(error('rate_limited', 3));
    expect(throttled.message).toMatch(/try again in \d+ s/);
    guesser.send({ type: 'register', user: 'mallory', password: 'secret12', id: 4 });
    expect(await guesser.next((f) => f.id === 4)).toEqual(error('rate_limited', 4));
    expect(guesser.isOpen).toBe(true);

    const other = await anonymous(chat, 'other');
    expect(await attempt(other, 'bob', 'builder', 'b')).toMatchObject({ type: 'welcome', user: 'bob' });
    // Once the bucket refills, the guesser may try again.
    expect(await loginWhenAllowed(guesser, 'alice', 'wonderland')).toMatchObject({ type: 'welcome', user: 'alice' });
  });

  it('per address: failures on several connections add up', async () => {
    chat = await startTestServer({ limits: { loginAttemptsPerConnection: 100, loginAttemptsPerAddress: 3, loginAttemptWindowMs: 4_500 } });
    const first = await anonymous(chat, 'first');
    const second = await anonymous(chat, 'second');
    expect(await attempt(first, 'alice', 'x1', 1)).toEqual(error('auth_failed', 1));
    expect(await attempt(first, 'alice', 'x2', 2)).toEqual(error('auth_failed', 2));
    second.send({ type: 'register', user: 'alice', password: 'taken-name', id: 3 }); // probing names counts too
    expect(await second.next((f) => f.id === 3)).toEqual(error('user_exists', 3));
    const third = await anonymous(chat, 'third');
    expect(await attempt(third, 'carol', 'caroline', 4)).toEqual(error('rate_limited', 4));
    expect(await loginWhenAllowed(third, 'carol', 'caroline')).toMatchObject({ type: 'welcome', user: 'carol' });
  });

  it('successful logins cost nothing', async () => {
    chat = await startTestServer({ limits: { loginAttemptsPerConnection: 1, loginAttemptsPerAddress: 1 } });
    for (let round = 0; round < 3; round++) {
      const alice = await chat.login('alice');
      alice.destroy();
      await alice.closed();
      await chat.login('bob').then((bob) => (bob.destroy(), bob.closed()));
    }
  });
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
