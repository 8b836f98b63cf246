/**
 * History and the offline private-message queue of a cluster live in Redis (issue 15): whatever
 * node a message was said through, any node replays it (`since`), pages through it (`history`),
 * and delivers a queued private message once, at its recipient's next login on any node.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import type { ServerLimits } from '../src/server/index.ts';
import { startClusterNode, stoppedAfterEach, type TestClusterNode } from '../test-support/cluster-node.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';
import { redisPerFile } from '../test-support/redis-per-file.ts';
import { TEST_USERS } from '../test-support/chat-server.ts';

const redis = redisPerFile({ persist: true });
const { nodes, sockets } = stoppedAfterEach();

async function node(name: string, limits: Partial<ServerLimits> = {}): Promise<TestClusterNode> {
  const started = await startClusterNode(redis.url, name, 1_000, limits);
  nodes.push(started);
  return started;
}

async function login(on: TestClusterNode, user: string): Promise<FrameSocket> {
  const socket = await on.login(user);
  sockets.push(socket);
  return socket;
}

/** Logs in with `since` (or without), returning the replay: every frame after `welcome` up to `history_end`. */
async function loginReplay(on: TestClusterNode, user: string, since?: number): Promise<{ socket: FrameSocket; replay: RawFrame[]; end: RawFrame }> {
  const socket = await on.connect(`${user}@replay`);
  sockets.push(socket);
  socket.send({ type: 'login', user, password: TEST_USERS[user], ...(since !== undefined && { since }) });
  expect(await socket.nextFrame()).toMatchObject({ type: 'welcome' });
  const replay: RawFrame[] = [];
  for (;;) {
    const frame = await socket.nextFrame();
    if (frame.type === 'history_end') return { socket, replay, end: frame };
    replay.push(frame);
  }
}

/** Says `text` (in `room`, or privately `to`) and returns the msgid of its `ok`. */
async function say(socket: FrameSocket, text: string, where: { room?: string; to?: string } = {}): Promise<number> {
  const id = `say-${text}`;
  socket.send({ type: 'say', text, id, ...where });
  const ok = await socket.next((frame) => frame.id === id);
  expect(ok).toMatchObject({ type: 'ok', msgid: expect.any(Number) });
  return ok.msgid as number;
}

describe('history in a cluster', () => {
  it('replays on node B (`since`, join) what alice said on node A, with the same msgids', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    alice.send({ type: 'join', room: 'dev', id: 'j' });
    await alice.next('history_end');
    const first = await say(alice, 'one');
    const inDev = await say(alice, 'in dev', { room: 'dev' });
    const second = await say(alice, 'two');
    const { socket: bob, replay, end } = await loginReplay(b, 'bob', first);
    expect(replay).toEqual([{ type: 'message', from: 'alice', room: 'lobby', text: 'two', ts: expect.any(Number), msgid: second, history: true }]);
    expect(end).toMatchObject({ count: 1, last_msgid: second });
    bob.send({ type: 'join', room: 'dev', id: 'jb' });
    expect(await bob.next('message')).toMatchObject({ from: 'alice', room: 'dev', text: 'in dev', msgid: inDev, history: true });
    expect(await bob.next('history_end')).toMatchObject({ room: 'dev', count: 1, last_msgid: inDev });
  });

  it('neither loses nor repeats a message said on node A while bob logs in on node B with `since`', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    const texts = Array.from({ length: 30 }, (_, i) => `burst ${i}`);
    // The burst is under way (committed, relayed) while bob's login reads its replay.
    for (const text of texts) alice.send({ type: 'say', text, id: text });
    const bob = await b.connect('bob@B');
    sockets.push(bob);
    bob.send({ type: 'login', user: 'bob', password: TEST_USERS.bob, since: 0 });
    const last = await alice.next((frame) => frame.id === texts.at(-1));
    const seen: RawFrame[] = [];
    expect(await bob.nextFrame()).toMatchObject({ type: 'welcome' });
    while (seen.at(-1)?.msgid !== last.msgid) {
      const frame = await bob.nextFrame();
      if (frame.type === 'message') seen.push(frame);
    }
    expect(seen.map((frame) => frame.text)).toEqual(texts);
    const msgids = seen.map((frame) => frame.msgid as number);
    for (let i = 1; i < msgids.length; i++) expect(msgids[i]).toBeGreaterThan(msgids[i - 1] as number);
  });

  it('neither loses nor repeats a message said in a room on node A while bob joins it on node B', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    alice.send({ type: 'join', room: 'dev', id: 'ja' });
    await alice.next('history_end');
    const texts = Array.from({ length: 30 }, (_, i) => `dev ${i}`);
    for (const text of texts) alice.send({ type: 'say', room: 'dev', text, id: text });
    bob.send({ type: 'join', room: 'dev', id: 'jb' });
    const last = await alice.next((frame) => frame.id === texts.at(-1));
    const seen: RawFrame[] = [];
    while (seen.at(-1)?.msgid !== last.msgid) {
      const frame = await bob.next('message');
      if (frame.room === 'dev') seen.push(frame);
    }
    expect(seen.map((frame) => frame.text)).toEqual(texts);
  });

  it('pages on node B (`history` with before/limit) through messages recorded on node A', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    const msgids: number[] = [];
    for (const text of ['m1', 'm2', 'm3', 'm4', 'm5']) msgids.push(await say(alice, text));
    const { socket: bob, replay } = await loginReplay(b, 'bob');
    expect(replay.map((frame) => frame.msgid)).toEqual(msgids);
    bob.send({ type: 'history', room: 'lobby', limit: 2, id: 'h1' });
    const page1 = [await bob.next('message'), await bob.next('message')];
    expect(page1.map((frame) => frame.msgid)).toEqual(msgids.slice(3));
    expect(await bob.next('history_end')).toEqual({ type: 'history_end', room: 'lobby', count: 2, id: 'h1' });
    bob.send({ type: 'history', room: 'lobby', limit: 2, before: msgids[3], id: 'h2' });
    const page2 = [await bob.next('message'), await bob.next('message')];
    expect(page2.map((frame) => frame.text)).toEqual(['m2', 'm3']);
    expect(await bob.next('history_end')).toEqual({ type: 'history_end', room: 'lobby', count: 2, id: 'h2' });
    bob.send({ type: 'history', to: 'alice', id: 'h3' });
    expect(await bob.next('history_end')).toEqual({ type: 'history_end', to: 'alice', count: 0, id: 'h3' });
  });

  it('keeps the same retention as SQLite: each conversation cut to its newest messages by count', async () => {
    const a = await node('A', { historyRetainPerConversation: 3 });
    const alice = await login(a, 'alice');
    for (const text of ['r1', 'r2', 'r3', 'r4', 'r5']) await say(alice, text);
    alice.send({ type: 'history', limit: 10, id: 'h' });
    const texts: unknown[] = [];
    for (;;) {
      const frame = await alice.nextFrame();
      if (frame.type === 'history_end') break;
      if (frame.type === 'message') texts.push(frame.text);
    }
    expect(texts).toEqual(['r3', 'r4', 'r5']);
  });

  it('delivers a private message to offline carol, queued on node A, once, at her next login on node B', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    alice.send({ type: 'say', to: 'carol', text: 'while you were out', id: 'q' });
    const ok = await alice.next('ok');
    expect(ok).toMatchObject({ id: 'q', msgid: expect.any(Number), queued: true });
    const first = await loginReplay(b, 'carol');
    expect(first.replay).toEqual([{ type: 'message', from: 'alice', to: 'carol', text: 'while you were out', ts: expect.any(Number), msgid: ok.msgid, history: true, queued: true }]);
    first.socket.send({ type: 'quit' });
    await first.socket.next('bye');
    first.socket.end();
    await expect.poll(() => a.server.hub.isOnline('carol') || b.server.hub.isOnline('carol'), { timeout: 2_000, interval: 5 }).toBe(false);
    // Delivered: the next login (on either node) shows it as history only, never queued again.
    const again = await loginReplay(a, 'carol');
    expect(again.replay).toEqual([{ type: 'message', from: 'alice', to: 'carol', text: 'while you were out', ts: expect.any(Number), msgid: ok.msgid, history: true }]);
  });

  it('never trims a queued private message before it is delivered, whatever the retention', async () => {
    const a = await node('A', { historyRetainPerConversation: 2 });
    const b = await node('B', { historyRetainPerConversation: 2 });
    const alice = await login(a, 'alice');
    for (const text of ['q1', 'q2', 'q3']) await say(alice, text, { to: 'carol' });
    const { socket: carol, replay } = await loginReplay(b, 'carol');
    expect(replay.map((frame) => [frame.text, frame.queued])).toEqual([
      ['q1', true],
      ['q2', true],
      ['q3', true],
    ]);
    carol.send({ type: 'history', to: 'alice', id: 'h' });
    expect([await carol.next('message'), await carol.next('message')].map((frame) => frame.text)).toEqual(['q2', 'q3']);
    expect(await carol.next('history_end')).toEqual({ type: 'history_end', to: 'alice', count: 2, id: 'h' });
  });

  it('hands out msgids from one counter: strictly increasing across nodes', async () => {
    const a = await node('A');
    const b = await node('B');
    const alice = await login(a, 'alice');
    const bob = await login(b, 'bob');
    const msgids: number[] = [];
    for (let i = 0; i < 6; i++) msgids.push(await say(i % 2 === 0 ? alice : bob, `n${i}`));
    for (let i = 1; i < msgids.length; i++) expect(msgids[i]).toBeGreaterThan(msgids[i - 1] as number);
  });

  it('keeps history when a node restarts (Redis holds it)', async () => {
    const a = await node('A');
    const alice = await login(a, 'alice');
    const msgid = await say(alice, 'before the restart');
    await a.stop();
    nodes.splice(nodes.indexOf(a), 1);
    const again = await node('A');
    const { replay } = await loginReplay(again, 'bob', 0);
    expect(replay).toEqual([{ type: 'message', from: 'alice', room: 'lobby', text: 'before the restart', ts: expect.any(Number), msgid, history: true }]);
    const bob = sockets.at(-1) as FrameSocket;
    expect(await say(bob, 'after the restart')).toBeGreaterThan(msgid);
  });

  it('never reuses a msgid when Redis comes back empty: the counter is raised past what the node handed out', async () => {
    const a = await node('A');
    const alice = await login(a, 'alice');
    const before = await say(alice, 'x1');
    const store = new Redis(redis.url);
    try {
      await store.del('chatlab:msgid');
    } finally {
      store.disconnect();
    }
    expect(await say(alice, 'x2')).toBeGreaterThan(before);
  });
});
