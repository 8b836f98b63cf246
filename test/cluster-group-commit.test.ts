/**
 * Group commit on a cluster node (issue 15): the says of several connections asked for while a
 * record call is on its way go to Redis together, as one script call that records them all in
 * order. Each connection still gets its oks in its frames' order with increasing msgids, every
 * listener gets every message once, in each sender's order; and when Redis goes away under a batch,
 * every say of it is answered `internal` (none acknowledged) and the node recovers. The relays a
 * node publishes in one turn go to the other nodes as one bus message, still in order, and before
 * what the node announces next (a logout).
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawFrame } from '../src/protocol/index.ts';
import type { DeferringHistory } from '../src/server/cluster/deferring-history.ts';
import type { RedisHistory } from '../src/server/cluster/redis-history.ts';
import { startClusterNode, type TestClusterNode } from '../test-support/cluster-node.ts';
import type { FrameSocket } from '../test-support/frame-socket.ts';
import { commandCalls, resetCommandStats } from '../test-support/redis-command-stats.ts';
import { redisPerFile } from '../test-support/redis-per-file.ts';

/** Says per sender in one write: under the node's overlap bound (64), so each sender's whole burst is taken in at once. */
const BURST = 60;
const SENDERS = ['alice', 'bob', 'carol'] as const;

const redis = redisPerFile();
/** The node the test started first (where `login` logs in). */
let node: TestClusterNode | undefined;
const nodes: TestClusterNode[] = [];
const sockets: FrameSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(nodes.splice(0).map((started) => started.stop()));
  node = undefined;
});

async function startNode(name = 'A'): Promise<TestClusterNode> {
  const started = await startClusterNode(redis.url, name, 1_000, { rateLimitBurst: 4 * BURST, rateLimitPerSecond: 4 * BURST });
  nodes.push(started);
  node ??= started;
  return started;
}

async function login(user: string, on = node as TestClusterNode): Promise<FrameSocket> {
  const socket = await on.login(user);
  sockets.push(socket);
  return socket;
}

/** `user`'s burst as one write: says with ids `<user>0`, `<user>1`, … and the same texts. */
function burst(user: string): string {
  let bytes = '';
  for (let i = 0; i < BURST; i++) bytes += `${JSON.stringify({ type: 'say', text: `${user}${i}`, id: `${user}${i}` })}\n`;
  return bytes;
}

/** Frames of `socket` until `done` says enough came; returns them in arrival order. */
async function collect(socket: FrameSocket, done: (frames: RawFrame[]) => boolean): Promise<RawFrame[]> {
  const frames: RawFrame[] = [];
  while (!done(frames)) frames.push(await socket.nextFrame());
  return frames;
}

function count(frames: RawFrame[], type: string): number {
  return frames.filter((frame) => frame.type === type).length;
}

function expectIncreasing(msgids: number[], label: string): void {
  for (let i = 1; i < msgids.length; i++) expect(msgids[i] as number, `${label} #${i}`).toBeGreaterThan(msgids[i - 1] as number);
}

describe('group commit of records on a cluster node', () => {
  it('records the bursts of several connections in a few script calls, answering and relaying each in order, once', async () => {
    await startNode();
    const dave = await login('dave');
    const senders = new Map<string, FrameSocket>();
    for (const user of SENDERS) senders.set(user, await login(user));
    await collect(dave, (frames) => count(frames, 'presence') === SENDERS.length);
    for (const [user, socket] of senders) {
      const others = SENDERS.length - 1 - SENDERS.indexOf(user as (typeof SENDERS)[number]);
      if (others > 0) await collect(socket, (frames) => count(frames, 'presence') === others);
    }
    await resetCommandStats(redis.url);
    await Promise.all([...senders].map(([user, socket]) => socket.sendRaw(burst(user))));

    const oks = new Map<string, number[]>();
    for (const [user, socket] of senders) {
      const frames = await collect(socket, (got) => count(got, 'ok') === BURST && count(got, 'message') === (SENDERS.length - 1) * BURST);
      const answered = frames.filter((frame) => frame.type === 'ok');
      expect(answered.map((frame) => frame.id)).toEqual(Array.from({ length: BURST }, (_, i) => `${user}${i}`));
      const msgids = answered.map((frame) => frame.msgid as number);
      expectIncreasing(msgids, `${user}'s msgid`);
      oks.set(user, msgids);
      // What the others said, each in its sender's order with the msgids their oks named.
      for (const other of SENDERS) {
        if (other === user) continue;
        const heard = frames.filter((frame) => frame.type === 'message' && frame.from === other);
        expect(heard.map((frame) => frame.text)).toEqual(Array.from({ length: BURST }, (_, i) => `${other}${i}`));
      }
    }
    const heard = await collect(dave, (frames) => frames.length === SENDERS.length * BURST);
    for (const user of SENDERS) {
      const messages = heard.filter((frame) => frame.from === user);
      expect(messages.map((frame) => [frame.type, frame.text])).toEqual(Array.from({ length: BURST }, (_, i) => ['message', `${user}${i}`]));
      expect(messages.map((frame) => frame.msgid)).toEqual(oks.get(user));
    }
    expect(new Set(heard.map((frame) => frame.msgid)).size, 'distinct msgids').toBe(SENDERS.length * BURST);
    // 180 records; one call per record would be 180 calls. Batches grow with what waits: a handful
    // (about one per read of a burst), plus the heartbeats meanwhile (also scripts; a slow machine
    // has more of them), so the bound leaves room.
    expect(await commandCalls(redis.url, 'eval')).toBeLessThan((SENDERS.length * BURST) / 4);
  });

  it('defers every say of a batch when Redis goes away under it (none acknowledged with a msgid), and records them once when it returns', async () => {
    await startNode();
    const bob = await login('bob');
    const alice = await login('alice');
    await bob.next('presence');
    const admin = new Redis(redis.url);
    try {
      // Redis holds every write while paused: the node's record call (the whole burst, one batch)
      // is sent and stays unanswered.
      await admin.call('CLIENT', 'PAUSE', '10000', 'WRITE');
      const history = ((node as TestClusterNode).server.history as DeferringHistory).store as RedisHistory;
      const before = history.recordBatches;
      await alice.sendRaw(burst('alice'));
      await expect.poll(() => history.recordBatches, { timeout: 5_000, interval: 10 }).toBe(before + 1);
    } finally {
      admin.disconnect();
    }
    await redis.kill();
    // The batch never ran: each of its says goes to the spool, to bob on this node at once, in order.
    const answers = await collect(alice, (frames) => frames.length === BURST);
    expect(answers).toEqual(Array.from({ length: BURST }, (_, i) => ({ type: 'ok', id: `alice${i}`, deferred: true })));
    const heard = await collect(bob, (frames) => frames.length === BURST);
    expect(heard.map((frame) => [frame.text, 'msgid' in frame])).toEqual(Array.from({ length: BURST }, (_, i) => [`alice${i}`, false]));
    await redis.start();
    await expect.poll(() => (node as TestClusterNode).backplane.available, { timeout: 5_000, interval: 50 }).toBe(true);
    // Recorded once each, in order, when Redis is back; bob does not get them again.
    const store = new Redis(redis.url);
    try {
      const texts = async (): Promise<string[]> =>
        ((await store.xrange('chatlab:history:room:lobby', '-', '+')) as Array<[string, string[]]>).map(([, fields]) => fields[fields.indexOf('text') + 1] as string);
      await expect.poll(texts, { timeout: 5_000, interval: 50 }).toEqual(Array.from({ length: BURST }, (_, i) => `alice${i}`));
    } finally {
      store.disconnect();
    }
    alice.send({ type: 'say', text: 'back', id: 'b' });
    expect(await alice.next('ok', 5_000)).toMatchObject({ id: 'b', msgid: expect.any(Number) });
    expect(await bob.nextFrame()).toMatchObject({ type: 'message', from: 'alice', text: 'back' });
  });

  it("relays a burst to another node in a few bus messages, in order, and the sender's logout after it", async () => {
    const a = await startNode('A');
    const b = await startNode('B');
    const bob = await login('bob', b);
    const alice = await login('alice', a);
    expect(await bob.next('presence')).toMatchObject({ user: 'alice', status: 'online' });
    await resetCommandStats(redis.url);
    await alice.sendRaw(`${burst('alice')}${JSON.stringify({ type: 'quit', id: 'q' })}\n`);
    const answers = await collect(alice, (frames) => frames.length === BURST + 1);
    expect(answers.map((frame) => frame.type)).toEqual([...Array.from({ length: BURST }, () => 'ok'), 'bye']);
    const msgids = answers.slice(0, BURST).map((frame) => frame.msgid as number);
    expectIncreasing(msgids, 'msgid');
    const heard = await collect(bob, (frames) => frames.length === BURST + 1);
    expect(heard.slice(0, BURST).map((frame) => [frame.type, frame.text, frame.msgid])).toEqual(msgids.map((msgid, i) => ['message', `alice${i}`, msgid]));
    expect(heard[BURST]).toEqual({ type: 'presence', user: 'alice', status: 'offline' });
    // One PUBLISH per relay would be 60, plus the logout's (published by its script): about one per
    // batch of records answered.
    expect(await commandCalls(redis.url, 'publish')).toBeLessThan(BURST / 4);
  });
});
