/**
 * End to end: message history. Every relayed message gets a server-assigned msgid and is kept in
 * SQLite; after welcome the last messages are replayed (history: true, then history_end); `since`
 * limits the replay to what a reconnecting client missed; `join` replays the room; `history`
 * pages back; it all survives a restart with a file database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import { errorFrame as error, startTestServer, type TestServer } from './helpers/chat-server.ts';
import type { FrameSocket } from './helpers/frame-socket.ts';
import { loginWith, takeHistory, texts } from './helpers/extensions.ts';

let chat: TestServer | undefined;
afterEach(async () => {
  await chat?.stop();
  chat = undefined;
});

const dir = mkdtempSync(joinPath(tmpdir(), 'chatlab-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Says each text (in `room`, default lobby) and waits for its ok; returns the oks. */
async function sayAll(socket: FrameSocket, list: string[], room?: string): Promise<void> {
  for (const [i, text] of list.entries()) {
    const id = `${text}#${i}`;
    socket.send({ type: 'say', text, id, ...(room !== undefined && { room }) });
    await socket.next((f) => f.id === id && f.type === 'ok');
  }
}

describe('history replay after welcome', () => {
  it('replays lobby in msgid order with history: true, then history_end; live messages carry msgid', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    await sayAll(alice, ['one', 'two']);
    await sayAll(bob, ['three']);
    const live = [await bob.next('message'), await bob.next('message'), await alice.next('message')];
    expect(live.map((m) => m.msgid)).toEqual([1, 2, 3]);

    const carol = await chat.login('carol');
    expect(carol.welcome).toEqual({ type: 'welcome', user: 'carol', users: ['alice', 'bob', 'carol'] });
    const { messages, end } = await takeHistory(carol);
    expect(messages).toEqual(
      live.map((m) => ({ type: 'message', from: m.from, room: 'lobby', text: m.text, ts: m.ts, msgid: m.msgid, history: true })),
    );
    expect(end).toEqual({ type: 'history_end', count: 3, last_msgid: 3 });
    expect(await carol.sync()).toEqual([]);
  });

  it('a fresh server replays nothing and sends no history_end to a login without since', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    expect(await alice.sync()).toEqual([]);
    const bob = await loginWith(chat, 'bob', { since: 0 }); // asking with since always gets the end marker
    expect(await bob.nextFrame()).toEqual({ type: 'history_end', count: 0, last_msgid: 0 });
  });

  it('since: a reconnecting client gets only what it missed', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    await sayAll(alice, ['before 1', 'before 2']);
    const seen = (await bob.next('message'), await bob.next('message'));
    bob.destroy();
    await alice.next('presence');
    await sayAll(alice, ['missed 1', 'missed 2']);

    const back = await loginWith(chat, 'bob', { since: seen.msgid });
    const { messages, end } = await takeHistory(back);
    expect(texts(messages)).toEqual(['missed 1', 'missed 2']);
    expect(end).toEqual({ type: 'history_end', count: 2, last_msgid: messages[1]?.msgid });
  });

  it('replays at most historyReplayLimit per conversation; 0 turns replay off', async () => {
    chat = await startTestServer({ limits: { historyReplayLimit: 2 } });
    const alice = await chat.login('alice');
    await sayAll(alice, ['a', 'b', 'c', 'd']);
    const bob = await chat.login('bob');
    expect(texts((await takeHistory(bob)).messages)).toEqual(['c', 'd']);
    await chat.stop();

    chat = await startTestServer({ limits: { historyReplayLimit: 0 } });
    const carol = await chat.login('carol');
    await sayAll(carol, ['x']);
    const dave = await chat.login('dave');
    expect(await dave.sync()).toEqual([]);
  });

  it('replays the user’s private conversations too', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    alice.send({ type: 'say', to: 'bob', text: 'private hello', id: 1 });
    await alice.next('ok');
    await sayAll(bob, ['public reply']);
    bob.destroy();
    const back = await chat.login('bob');
    const { messages } = await takeHistory(back);
    expect(messages).toEqual([
      expect.objectContaining({ from: 'alice', to: 'bob', text: 'private hello', history: true }),
      expect.objectContaining({ from: 'bob', room: 'lobby', text: 'public reply', history: true }),
    ]);
    expect(messages[0]).not.toHaveProperty('queued');
  });

  it('survives a server restart (file database); msgids keep increasing', async () => {
    const db = joinPath(dir, 'restart.db');
    chat = await startTestServer({ db });
    const alice = await chat.login('alice');
    await sayAll(alice, ['before the restart', 'second']);
    alice.send({ type: 'say', to: 'carol', text: 'for carol, offline', id: 'p' });
    const queued = await alice.next('ok');
    await chat.stop();

    // Same file, new server (the accounts are already in it).
    chat = await startTestServer({ db, users: {} });
    const carol = await chat.login('carol', 'caroline');
    const { messages, end } = await takeHistory(carol);
    expect(texts(messages)).toEqual(['before the restart', 'second', 'for carol, offline']);
    expect(messages[2]).toMatchObject({ to: 'carol', queued: true, msgid: queued.msgid });
    expect(end).toMatchObject({ count: 3, last_msgid: queued.msgid });
    carol.send({ type: 'say', text: 'after the restart', id: 'n' });
    await carol.next('ok');
    const bob = await chat.login('bob', 'builder');
    const replay = (await takeHistory(bob)).messages;
    expect(replay.at(-1)).toMatchObject({ text: 'after the restart' });
    expect(replay.at(-1)?.msgid).toBeGreaterThan(queued.msgid as number);
  });
});

describe('join replays the room', () => {
  it('a room’s last messages follow the users answer, even after the room emptied', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    for (const socket of [alice, bob]) {
      socket.send({ type: 'join', room: 'rust' });
      await takeHistory((await socket.next('users'), socket));
    }
    await alice.next('presence');
    await sayAll(alice, ['fn main() {}'], 'rust');
    await sayAll(bob, ['cargo run'], 'rust');
    await sayAll(bob, ['in the lobby']);
    for (const socket of [alice, bob]) {
      socket.send({ type: 'leave', room: 'rust', id: 'l' });
      await socket.next((f) => f.type === 'ok' && f.id === 'l');
    }

    const carol = await chat.login('carol');
    await takeHistory(carol);
    carol.send({ type: 'join', room: 'rust', id: 'j' });
    expect(await carol.nextFrame()).toEqual({ type: 'users', room: 'rust', users: ['carol'], id: 'j' });
    const { messages, end } = await takeHistory(carol);
    expect(messages.map((m) => [m.from, m.room, m.text])).toEqual([
      ['alice', 'rust', 'fn main() {}'],
      ['bob', 'rust', 'cargo run'],
    ]);
    expect(end).toEqual({ type: 'history_end', room: 'rust', count: 2, last_msgid: messages[1]?.msgid });
  });
});

describe('paging with history', () => {
  it('pages back through a room with before and limit', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    await sayAll(alice, ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const pages: string[][] = [];
    let before: number | undefined;
    for (let page = 0; page < 4; page++) {
      alice.send({ type: 'history', room: 'lobby', limit: 3, id: page, ...(before !== undefined && { before }) });
      const { messages, end } = await takeHistory(alice);
      expect(end).toEqual({ type: 'history_end', room: 'lobby', count: messages.length, id: page });
      pages.push(texts(messages));
      before = messages[0]?.msgid as number | undefined;
      if (before === undefined) break;
    }
    expect(pages).toEqual([['m5', 'm6', 'm7'], ['m2', 'm3', 'm4'], ['m1'], []]);
  });

  it('pages a private conversation with to; refuses what the user may not read', async () => {
    chat = await startTestServer();
    const alice = await chat.login('alice');
    const bob = await chat.login('bob');
    await alice.next('presence');
    alice.send({ type: 'say', to: 'bob', text: 'a→b' });
    bob.send({ type: 'say', to: 'alice', text: 'b→a' });
    alice.send({ type: 'say', to: 'carol', text: 'a→c' });
    await bob.next('message');
    await alice.next('message');
    alice.send({ type: 'history', to: 'bob', id: 'h' });
    const { messages, end } = await takeHistory(alice);
    expect(messages.map((m: RawFrame) => m.text)).toEqual(['a→b', 'b→a']);
    expect(end).toEqual({ type: 'history_end', to: 'bob', count: 2, id: 'h' });

    alice.send({ type: 'history', room: 'rust', id: 1 });
    expect(await alice.nextFrame()).toEqual(error('unknown_room', 1));
    bob.send({ type: 'join', room: 'rust' });
    await takeHistory((await bob.next('users'), bob));
    alice.send({ type: 'history', room: 'rust', id: 2 });
    expect(await alice.nextFrame()).toEqual(error('not_in_room', 2));
    alice.send({ type: 'history', to: 'nobody', id: 3 });
    expect(await alice.nextFrame()).toEqual(error('unknown_user', 3));
    alice.send({ type: 'history', to: 'bob', room: 'lobby', id: 4 });
    expect(await alice.nextFrame()).toEqual(error('bad_request', 4));
    alice.send({ type: 'history', limit: 0, id: 5 });
    expect(await alice.nextFrame()).toEqual(error('bad_request', 5));
  });

  it('lowers a limit over historyPageLimit', async () => {
    chat = await startTestServer({ limits: { historyPageLimit: 2 } });
    const alice = await chat.login('alice');
    await sayAll(alice, ['1', '2', '3']);
    alice.send({ type: 'history', limit: 100, id: 'h' });
    expect(texts((await takeHistory(alice)).messages)).toEqual(['2', '3']);
  });
});
