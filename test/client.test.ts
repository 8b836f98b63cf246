/**
 * ChatClient against the real reference server (ChatServer), over real sockets.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatClient, ClientError, ProtocolError, type ChatClientEvents } from '../src/client/index.ts';
import type { MessageFrame, PresenceFrame } from '../src/protocol/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { nextClientEvent } from '../test-support/client-events.ts';
import { rejection } from '../test-support/promises.ts';

const WAIT_MS = 5_000;

let chat: TestServer;
const clients: ChatClient[] = [];

beforeEach(async () => {
  chat = await startTestServer();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await chat.stop();
});

async function connect(): Promise<ChatClient> {
  const client = await ChatClient.connect({ port: chat.port });
  clients.push(client);
  return client;
}

async function loggedIn(user: string, password: string): Promise<ChatClient> {
  const client = await connect();
  await client.login(user, password);
  return client;
}

/** The first `event` whose value passes `match`, or a clear failure after {@link WAIT_MS}. */
const waitFor = <K extends keyof ChatClientEvents>(client: ChatClient, event: K, match?: (...args: ChatClientEvents[K]) => boolean) => nextClientEvent(client, event, match, WAIT_MS);

describe('ChatClient with the reference server', () => {
  it('connects (hello), logs in (welcome with everyone online)', async () => {
    const alice = await connect();
    expect(alice.hello).toMatchObject({ type: 'hello', protocol: 'chatlab/1' });
    const welcome = await alice.login('alice', 'wonderland');
    expect(welcome).toMatchObject({ type: 'welcome', user: 'alice', users: ['alice'] });
    const bob = await loggedIn('bob', 'builder');
    expect(bob.user).toBe('bob');
    expect(await alice.who()).toEqual(['alice', 'bob']);
  });

  it('two clients: presence, say and receive (emoji intact), no copy to the sender', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    const online = waitFor(alice, 'presence', (p) => p.user === 'bob');
    const bob = await loggedIn('bob', 'builder');
    expect(await online).toEqual({ type: 'presence', user: 'bob', status: 'online' });

    const aliceMessages: MessageFrame[] = [];
    alice.on('message', (m) => aliceMessages.push(m));
    const received = waitFor(bob, 'message');
    const before = Date.now();
    await alice.say('hello 👋\nsecond line');
    const message = await received;
    expect(message).toMatchObject({ type: 'message', from: 'alice', text: 'hello 👋\nsecond line' });
    expect(message.ts).toBeGreaterThanOrEqual(before - 1_000);
    // The server handles a connection's frames in order: once this ping is answered, a copy would be here.
    await alice.ping();
    expect(aliceMessages).toEqual([]);

    const back = waitFor(alice, 'message');
    await bob.say('hi alice');
    expect(await back).toMatchObject({ from: 'bob', text: 'hi alice' });
  });

  it('a wrong password rejects with ProtocolError auth_failed, and a retry works', async () => {
    const alice = await connect();
    const error = await rejection(alice.login('alice', 'not-the-password'));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('auth_failed');
    expect(error.message).not.toBe('');
    expect(alice.user).toBeUndefined();
    expect((await alice.login('alice', 'wonderland')).user).toBe('alice');
  });

  it('say before login rejects with not_logged_in; ping works before login', async () => {
    const client = await connect();
    expect(await rejection(client.say('hi'))).toMatchObject({ code: 'not_logged_in' });
    expect(await client.ping()).toBeGreaterThanOrEqual(0);
  });

  it('the same user twice is refused with already_online', async () => {
    await loggedIn('alice', 'wonderland');
    const second = await connect();
    expect(await rejection(second.login('alice', 'wonderland'))).toMatchObject({ code: 'already_online' });
  });

  it('register creates an account that can then log in; registering it again is user_exists', async () => {
    const erin = await connect();
    await erin.register('erin', 'secret-erin');
    expect(await rejection(erin.register('erin', 'secret-erin'))).toMatchObject({ code: 'user_exists' });
    expect((await erin.login('erin', 'secret-erin')).user).toBe('erin');
  });

  it('who lists everyone online; ping measures a round trip', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    await loggedIn('carol', 'caroline');
    expect(await alice.who()).toEqual(['alice', 'carol']);
    const ms = await alice.ping();
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(WAIT_MS);
  });

  it('a bad request rejects with bad_request and the connection stays usable', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    expect(await rejection(alice.say('x'.repeat(4_001)))).toMatchObject({ code: 'bad_request' });
    expect(await alice.who()).toEqual(['alice']);
  });

  it('quit resolves after bye and the close; the others see offline; the server forgets the user', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    const bob = await loggedIn('bob', 'builder');
    const events: string[] = [];
    alice.on('bye', () => events.push('bye'));
    alice.on('close', (error) => events.push(`close ${error}`));
    const offline = waitFor(bob, 'presence', (p) => p.user === 'alice' && p.status === 'offline');
    await alice.quit();
    expect(events).toEqual(['bye', 'close null']);
    expect(alice.state).toBe('closed');
    expect(await offline).toEqual({ type: 'presence', user: 'alice', status: 'offline' });
    expect(await bob.who()).toEqual(['bob']);
    expect(await rejection(alice.who())).toMatchObject({ code: 'not_connected' });
  });

  it('quit before login just closes', async () => {
    const client = await connect();
    await client.quit();
    expect(client.state).toBe('closed');
  });

  it('destroy drops the connection; the other client gets an offline presence', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    const bob = await loggedIn('bob', 'builder');
    const offline = waitFor(bob, 'presence', (p: PresenceFrame) => p.user === 'alice' && p.status === 'offline');
    const closed = waitFor(alice, 'close');
    alice.destroy();
    expect(await closed).toBeNull();
    expect(await offline).toMatchObject({ type: 'presence', user: 'alice', status: 'offline' });
    expect(await bob.who()).toEqual(['bob']);
  });

  it('server shutdown: bye, a clean close, pending requests rejected', async () => {
    const alice = await loggedIn('alice', 'wonderland');
    const bye = waitFor(alice, 'bye');
    const closed = waitFor(alice, 'close');
    await chat.stop();
    expect(await bye).toMatchObject({ type: 'bye', reason: 'server_shutdown' });
    expect(await closed).toBeNull();
    expect(await rejection(alice.ping())).toBeInstanceOf(ClientError);
  });
});
