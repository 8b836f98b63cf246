/**
 * End to end: message history. Every relayed message gets a server-assigned msgid and is kept in
 * SQLite; after welcome the last messages are replayed (history: true, then history_end); `since`
 * limits the replay to what a reconnecting client missed; `join` replays the room; it all
 * survives a restart with a file database. Paging with `history` is a rule of the core, played
 * without sockets in core-history.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import { startTestServer, type TestServer } from './helpers/chat-server.ts';
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
    // Ids stay within the contract's 64 characters whatever the text.
    const id = `say-${room ?? 'lobby'}-${i}`;
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

  it('since: when a group missed more than historyReplayLimit, the newest are replayed; a page fills the gap', async () => {
    chat = await startTestServer({ limits: { historyReplayLimit: 2 } });
    const alice = await chat.login('alice');
    await sayAll(alice, ['seen']);
    alice.send({ type: 'history', limit: 1, id: 'h' });
    const seen = (await takeHistory(alice)).messages[0]?.msgid as number;
    await sayAll(alice, ['m1', 'm2', 'm3', 'm4']);
    const bob = await loginWith(chat, 'bob', { since: seen });
    const { messages, end } = await takeHistory(bob);
    expect(texts(messages)).toEqual(['m3', 'm4']);
    expect(end).toEqual({ type: 'history_end', count: 2, last_msgid: messages[1]?.msgid });
    // "Whole number" is judged by value: 5.0 is the number 5 (the raw text is sent as written).
    await bob.sendRaw(`{"type":"history","before":${messages[0]?.msgid as number}.0,"limit":5.0,"id":"gap"}\n`);
    const gap = await takeHistory(bob);
    expect(texts(gap.messages)).toEqual(['seen', 'm1', 'm2']);
    expect(gap.end).toEqual({ type: 'history_end', room: 'lobby', count: 3, id: 'gap' });
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

describe('retention (historyRetainPerConversation)', () => {
  /** Sends private messages from `socket` to `to`, waiting for each ok; returns the oks. */
  async function tellAll(socket: FrameSocket, to: string, list: string[]): Promise<RawFrame[]> {
    const oks: RawFrame[] = [];
    for (const [i, text] of list.entries()) {
      const id = `${to}:${i}`;
      socket.send({ type: 'say', to, text, id });
      oks.push(await socket.next((f) => f.id === id && f.type === 'ok'));
    }
    return oks;
  }

  it('keeps the newest messages of each room and private pair, never an undelivered one, across a restart', async () => {
    const db = joinPath(dir, 'retention.db');
    chat = await startTestServer({ db, limits: { historyRetainPerConversation: 3 } });
    const alice = await chat.login('alice');
    const carol = await chat.login('carol');
    await alice.next('presence');
    await sayAll(alice, ['m1', 'm2', 'm3', 'm4', 'm5']);
    // A pair is one conversation, both directions together.
    await tellAll(alice, 'carol', ['a→c 1']);
    await tellAll(carol, 'alice', ['c→a 2']);
    await tellAll(alice, 'carol', ['a→c 3']);
    await tellAll(carol, 'alice', ['c→a 4']);
    // dave is offline: his five queued messages outnumber the retention and must all survive.
    const queued = await tellAll(alice, 'dave', ['q1', 'q2', 'q3', 'q4', 'q5']);
    expect(queued.every((ok) => ok.queued === true)).toBe(true);

    for (const text of ['c→a 2', 'c→a 4']) await alice.next((f) => f.type === 'message' && f.text === text);
    alice.send({ type: 'history', to: 'carol', id: 'pair' });
    expect(texts((await takeHistory(alice)).messages)).toEqual(['c→a 2', 'a→c 3', 'c→a 4']);

    const bob = await chat.login('bob');
    expect(texts((await takeHistory(bob)).messages)).toEqual(['m3', 'm4', 'm5']);
    bob.send({ type: 'history', room: 'lobby', limit: 50, id: 'page' });
    expect(texts((await takeHistory(bob)).messages)).toEqual(['m3', 'm4', 'm5']);

    const dave = await chat.login('dave');
    const { messages } = await takeHistory(dave);
    expect(messages.filter((m) => m.queued === true).map((m) => m.text)).toEqual(['q1', 'q2', 'q3', 'q4', 'q5']);
    // Delivered now: the next message of the pair cuts it back to three.
    await tellAll(alice, 'dave', ['q6']);
    await dave.next('message');
    dave.send({ type: 'history', to: 'alice', id: 'd' });
    expect(texts((await takeHistory(dave)).messages)).toEqual(['q4', 'q5', 'q6']);
    await chat.stop();

    // Same file, keep-everything server: what was pruned stays gone.
    chat = await startTestServer({ db, users: {}, limits: { historyRetainPerConversation: 0 } });
    const back = await chat.login('bob', 'builder');
    expect(texts((await takeHistory(back)).messages)).toEqual(['m3', 'm4', 'm5']);
    back.send({ type: 'history', to: 'carol', id: 'b' });
    expect((await takeHistory(back)).messages).toEqual([]);
  });
});

describe('replays bounded by bytes (half of maxOutputBytes)', () => {
  it('leaves out the oldest messages, says truncated, and keeps queued messages that did not fit for the next login', async () => {
    // ~1,100-byte frames against a 4,096-byte replay budget: three fit.
    chat = await startTestServer({ limits: { maxOutputBytes: 8192 } });
    const long = (label: string) => `${label} ${'x'.repeat(1000)}`;
    const alice = await chat.login('alice');
    await sayAll(alice, ['L1', 'L2', 'L3', 'L4'].map(long));
    const oks: RawFrame[] = [];
    for (const label of ['Q1', 'Q2', 'Q3', 'Q4']) {
      alice.send({ type: 'say', to: 'carol', text: long(label), id: label });
      oks.push(await alice.next((f) => f.id === label && f.type === 'ok'));
    }

    const carol = await chat.login('carol');
    const first = await takeHistory(carol);
    expect(first.messages.map((m) => [String(m.text).slice(0, 2), m.queued])).toEqual([
      ['Q2', true],
      ['Q3', true],
      ['Q4', true],
    ]);
    expect(first.end).toEqual({ type: 'history_end', count: 3, last_msgid: oks[3]?.msgid, truncated: true });

    // Paging is bounded the same way; the smallest msgid received pages on.
    carol.send({ type: 'history', room: 'lobby', limit: 50, id: 'p1' });
    const page = await takeHistory(carol);
    expect(texts(page.messages).map((text) => text.slice(0, 2))).toEqual(['L2', 'L3', 'L4']);
    expect(page.end).toEqual({ type: 'history_end', room: 'lobby', count: 3, truncated: true, id: 'p1' });
    carol.send({ type: 'history', room: 'lobby', before: page.messages[0]?.msgid, id: 'p2' });
    const older = await takeHistory(carol);
    expect(texts(older.messages).map((text) => text.slice(0, 2))).toEqual(['L1']);
    expect(older.end).not.toHaveProperty('truncated');

    // Q1 did not fit: it is still queued, and the next login (since the last seen msgid) brings it.
    carol.destroy();
    await alice.next('presence');
    const back = await loginWith(chat, 'carol', { since: first.end.last_msgid });
    const second = await takeHistory(back);
    expect(second.messages).toEqual([expect.objectContaining({ text: long('Q1'), msgid: oks[0]?.msgid, queued: true })]);
    expect(second.end).toEqual({ type: 'history_end', count: 1, last_msgid: oks[0]?.msgid });
  });
});
