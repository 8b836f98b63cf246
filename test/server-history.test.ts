/**
 * End to end: message history in SQLite. The replay after welcome and msgids survive a restart
 * with a file database; retention keeps the newest messages of each conversation (never an
 * undelivered one) across a restart; a replay too large for the output share is truncated. The
 * replay and paging rules themselves are played without sockets in core-history.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import { startTestServer, type TestServer } from '../test-support/chat-server.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';
import { loginWith, takeHistory, texts } from '../test-support/extensions.ts';

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

describe('restart', () => {
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
