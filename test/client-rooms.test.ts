/**
 * The client library's extensions against the real reference server, over real sockets, with
 * several users: private messages, rooms, history (replay, paging, `since`), and the
 * ChatSession's reconnect after a server restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/index.ts';
import { ChatSession, type ReconnectInfo } from '../src/client/session.ts';
import type { HistoryEndFrame, MessageFrame, PresenceFrame } from '../src/protocol/index.ts';
import { ChatServer } from '../src/server/index.ts';
import { TEST_SCRYPT, TEST_USERS, startTestServer, type TestServer } from '../test-support/chat-server.ts';
import { collect, nextEvent } from '../test-support/client-events.ts';
import { rejection } from '../test-support/promises.ts';

let chat: TestServer;
const clients: ChatClient[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  chat = await startTestServer();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await chat.stop();
});

async function loggedIn(user: string, options: { since?: number; port?: number } = {}): Promise<ChatClient> {
  const client = await ChatClient.connect({ port: options.port ?? chat.port });
  clients.push(client);
  await client.login(user, TEST_USERS[user] as string, { since: options.since });
  return client;
}

const isText = (text: string) => (m: MessageFrame) => m.text === text;

describe('private messages', () => {
  it('reach only the recipient, with a msgid; unknown users and messages to oneself are refused', async () => {
    const [alice, bob, carol] = [await loggedIn('alice'), await loggedIn('bob'), await loggedIn('carol')];
    const carolSaw = collect<MessageFrame>(carol, 'message');
    const aliceSaw = collect<MessageFrame>(alice, 'message');
    const received = nextEvent<[MessageFrame]>(bob, 'message', isText('psst'));
    const result = await alice.privateSay('bob', 'psst');
    const [message] = await received;
    expect(message).toMatchObject({ from: 'alice', to: 'bob', text: 'psst', msgid: result.msgid });
    expect(result).toEqual({ msgid: expect.any(Number), queued: false, deferred: false });
    expect(alice.lastMsgid).toBe(result.msgid);

    expect(await rejection(alice.privateSay('nobody', 'hi'))).toMatchObject({ code: 'unknown_user' });
    expect(await rejection(alice.privateSay('alice', 'me'))).toMatchObject({ code: 'bad_request' });
    // ping is answered after everything sent before it: nothing private leaked to carol or back to alice.
    await carol.ping();
    await alice.ping();
    expect(carolSaw).toEqual([]);
    expect(aliceSaw).toEqual([]);
  });

  it('to an offline user: queued, then delivered in the replay at their next login', async () => {
    const alice = await loggedIn('alice');
    expect(await alice.privateSay('dave', 'see you later')).toMatchObject({ queued: true });
    const dave = await ChatClient.connect({ port: chat.port });
    clients.push(dave);
    const replayed = nextEvent<[MessageFrame]>(dave, 'message', isText('see you later'));
    const end = nextEvent<[HistoryEndFrame]>(dave, 'history_end');
    await dave.login('dave', TEST_USERS.dave as string);
    expect((await replayed)[0]).toMatchObject({ from: 'alice', to: 'dave', history: true });
    expect((await end)[0].count).toBeGreaterThanOrEqual(1);
  });
});

describe('rooms', () => {
  it('join, presence in the room, room messages to members only, who/rooms, leave', async () => {
    const [alice, bob, carol] = [await loggedIn('alice'), await loggedIn('bob'), await loggedIn('carol')];
    expect(await alice.join('rust')).toEqual(['alice']);
    const bobJoined = nextEvent<[PresenceFrame]>(alice, 'presence', (p) => p.user === 'bob' && p.room === 'rust');
    const joinedEvent = nextEvent<[string, string[]]>(bob, 'joined');
    expect(await bob.join('rust')).toEqual(['alice', 'bob']);
    expect((await bobJoined)[0]).toEqual({ type: 'presence', user: 'bob', status: 'online', room: 'rust' });
    expect(await joinedEvent).toEqual(['rust', ['alice', 'bob']]);
    expect([...alice.rooms]).toEqual(['lobby', 'rust']);

    const carolSaw = collect<MessageFrame>(carol, 'message');
    const inRoom = nextEvent<[MessageFrame]>(bob, 'message', isText('borrow checker 🦀'));
    await alice.say('borrow checker 🦀', { room: 'rust' });
    expect((await inRoom)[0]).toMatchObject({ from: 'alice', room: 'rust', msgid: expect.any(Number) });

    expect(await rejection(carol.say('let me in', { room: 'rust' }))).toMatchObject({ code: 'not_in_room' });
    expect(await rejection(carol.say('hello?', { room: 'nowhere' }))).toMatchObject({ code: 'unknown_room' });
    expect(await rejection(carol.who('nowhere'))).toMatchObject({ code: 'unknown_room' });
    expect(await carol.who('rust')).toEqual(['alice', 'bob']);
    expect(await carol.listRooms()).toEqual([
      { room: 'lobby', users: 3 },
      { room: 'rust', users: 2 },
    ]);

    const bobLeft = nextEvent<[PresenceFrame]>(alice, 'presence', (p) => p.user === 'bob' && p.room === 'rust');
    await bob.leave('rust');
    expect((await bobLeft)[0].status).toBe('offline');
    expect(await rejection(bob.leave('rust'))).toMatchObject({ code: 'not_in_room' });
    expect(await rejection(bob.leave('lobby'))).toMatchObject({ code: 'bad_request' });
    await carol.ping();
    expect(carolSaw).toEqual([]);
  });

  it('joining a room replays its recent messages after the users answer', async () => {
    const alice = await loggedIn('alice');
    await alice.join('go');
    await alice.say('first', { room: 'go' });
    await alice.say('second', { room: 'go' });
    const bob = await loggedIn('bob');
    const replay = collect<MessageFrame>(bob, 'message');
    const end = nextEvent<[HistoryEndFrame]>(bob, 'history_end', (e) => e.room === 'go');
    await bob.join('go');
    expect((await end)[0]).toMatchObject({ room: 'go', count: 2 });
    expect(replay.map((m) => [m.text, m.history, m.room])).toEqual([
      ['first', true, 'go'],
      ['second', true, 'go'],
    ]);
  });
});

describe('history', () => {
  it('is replayed after welcome; pages back with before/limit; since replays only newer messages', async () => {
    const alice = await loggedIn('alice');
    for (const text of ['one', 'two', 'three', 'four']) await alice.say(text);

    const bob = await ChatClient.connect({ port: chat.port });
    clients.push(bob);
    const replay = collect<MessageFrame>(bob, 'message');
    const end = nextEvent<[HistoryEndFrame]>(bob, 'history_end');
    await bob.login('bob', 'builder');
    const ids = replay.map((m) => m.msgid as number);
    expect((await end)[0]).toMatchObject({ count: 4, last_msgid: ids[3] });
    expect(replay.map((m) => m.text)).toEqual(['one', 'two', 'three', 'four']);
    expect(replay.every((m) => m.history === true)).toBe(true);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(bob.lastMsgid).toBe(ids[3]);

    const page = await bob.history({ before: ids[3], limit: 2 });
    expect(page.messages.map((m) => m.text)).toEqual(['two', 'three']);
    expect(page.end.count).toBe(2);

    const carol = await ChatClient.connect({ port: chat.port });
    clients.push(carol);
    const sinceReplay = collect<MessageFrame>(carol, 'message');
    const sinceEnd = nextEvent<[HistoryEndFrame]>(carol, 'history_end');
    await carol.login('carol', 'caroline', { since: ids[1] });
    expect((await sinceEnd)[0].count).toBe(2);
    expect(sinceReplay.map((m) => m.text)).toEqual(['three', 'four']);
  });

  it('private conversations page back with `to`', async () => {
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    await alice.privateSay('bob', 'p1');
    await bob.privateSay('alice', 'p2');
    await alice.say('lobby noise');
    const page = await alice.history({ to: 'bob' });
    expect(page.messages.map((m) => [m.from, m.text])).toEqual([
      ['alice', 'p1'],
      ['bob', 'p2'],
    ]);
  });
});

describe('ChatSession: reconnect', () => {
  it('after a server restart: backoff, re-login with since, rooms joined again, nothing shown twice, the missed message once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatlab-session-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = join(dir, 'chat.db');
    const first = new ChatServer({ port: 0, db, scrypt: TEST_SCRYPT });
    for (const [user, password] of Object.entries(TEST_USERS)) await first.accounts.add(user, password);
    const { port } = await first.start();
    let server = first;
    cleanups.push(() => server.stop());

    // A long first retry (no jitter) leaves time to restart the server and say something alice misses.
    const alice = new ChatSession({ port, user: 'alice', password: 'wonderland', reconnectAfterShutdown: true, backoff: { initialMs: 1_500, jitter: 0 } });
    cleanups.push(() => alice.destroy());
    const seen = collect<MessageFrame>(alice, 'message');
    const welcomes = collect<unknown>(alice, 'welcome');
    await alice.start();
    await alice.join('rust');

    const bob = await loggedIn('bob', { port });
    await bob.join('rust');
    const gotTwo = nextEvent<[MessageFrame]>(alice, 'message', isText('two'));
    await bob.say('one');
    await bob.say('r1', { room: 'rust' });
    await bob.say('two');
    await gotTwo;
    const mark = alice.lastMsgid;
    expect(mark).toBeGreaterThan(0);

    const reconnecting = nextEvent<[ReconnectInfo]>(alice, 'reconnecting');
    await first.stop();
    const [info] = await reconnecting;
    expect(info).toMatchObject({ attempt: 1, delayMs: 1_500 });
    expect(alice.state).toBe('reconnecting');
    expect(await alice.say('into the void').catch((e: Error) => e)).toMatchObject({ code: 'not_connected' });

    server = new ChatServer({ port, db, scrypt: TEST_SCRYPT });
    await server.start();
    // The history survived the restart: a newcomer gets it replayed.
    const carol = await ChatClient.connect({ port });
    clients.push(carol);
    const carolReplay = collect<MessageFrame>(carol, 'message');
    const carolEnd = nextEvent(carol, 'history_end');
    await carol.login('carol', 'caroline');
    await carolEnd;
    expect(carolReplay.map((m) => [m.text, m.history])).toEqual([
      ['one', true],
      ['two', true],
    ]);
    const bob2 = await loggedIn('bob', { port });
    await bob2.say('three (while alice was away)');

    const welcomedAgain = nextEvent<[unknown, { reconnected: boolean }]>(alice, 'welcome', (_w, info) => info.reconnected);
    const rejoined = nextEvent<[string[]]>(alice, 'reconnected');
    const missed = nextEvent<[MessageFrame]>(alice, 'message', isText('three (while alice was away)'));
    await welcomedAgain;
    expect((await missed)[0]).toMatchObject({ history: true, from: 'bob' });
    expect((await rejoined)[0]).toEqual(['rust']);
    expect(alice.state).toBe('connected');
    expect(await bob2.who('rust')).toContain('alice');
    expect(welcomes).toHaveLength(2);

    // Everything before the restart was shown once: neither the since replay nor the rust replay repeated it.
    const texts = seen.map((m) => m.text);
    for (const text of ['one', 'r1', 'two', 'three (while alice was away)'])
      expect(
        texts.filter((t) => t === text),
        text,
      ).toHaveLength(1);

    // Live again.
    const live = nextEvent<[MessageFrame]>(bob2, 'message', isText('back'));
    await alice.say('back');
    await live;
    await alice.quit();
    expect(alice.state).toBe('closed');
  });

  it('a lost connection (no bye) is reconnected; quit while reconnecting ends the session', async () => {
    const alice = new ChatSession({ port: chat.port, user: 'alice', password: 'wonderland', reconnectAfterShutdown: true, backoff: { initialMs: 20, maxMs: 40 } });
    cleanups.push(() => alice.destroy());
    await alice.start();
    const lost = nextEvent<[Error | null]>(alice, 'connection_closed');
    const back = nextEvent(alice, 'reconnected');
    alice.client?.destroy();
    expect((await lost)[0]).toBeNull();
    await back;
    expect(alice.state).toBe('connected');

    await chat.stop();
    await nextEvent(alice, 'reconnecting', (info: ReconnectInfo) => info.attempt >= 2);
    const closed = nextEvent<[Error | null]>(alice, 'close');
    await alice.quit();
    expect((await closed)[0]).toBeNull();
  });

  it('a bye ends the session unless reconnectAfterShutdown; a refused password is final', async () => {
    const alice = new ChatSession({ port: chat.port, user: 'alice', password: 'wonderland' });
    await alice.start();
    const wrong = new ChatSession({ port: chat.port, user: 'bob', password: 'nope' });
    expect(await wrong.start().catch((e: Error) => e)).toMatchObject({ code: 'auth_failed' });
    expect(wrong.lastStep).toBe('login');
    const closed = nextEvent<[Error | null]>(alice, 'close');
    await chat.stop();
    expect((await closed)[0]).toBeNull();
    expect(alice.state).toBe('closed');
  });
});
